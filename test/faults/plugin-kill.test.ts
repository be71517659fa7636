import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { Ledger, loadSeconds, timeoutFor } from './support/ledger.ts';
import { awaitDelivery, consumeLoad, publishLoad } from './support/load.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const until = async (ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(50);
  return ok();
};

/** CI: six kills (each about 14 s: restart, rejoin, 100 acks). Soak (PRISM_FAULTS_LOAD_SECONDS): kills go on for that long. */
const minKills = 6;
const phaseSeconds = loadSeconds(20);
/** Consumer acks the restarted plugin must have answered before it is killed again: the kill lands mid-consume. */
const acksBeforeKill = 100;
/** The kill comes this long (uniformly random) after those acks. */
const maxKillDelayMs = 1_000;

describe('fault 3: the plugin is SIGKILLed again and again while a consumer consumes and acknowledges', () => {
  it(`${String(minKills)}+ SIGKILLs: every message delivered at least once, no message whose Ack was answered delivered again`, async () => {
    const topic = name('faults-kill');
    const group = name('faults-kill-g');
    // Static membership brings the restarted plugin's member back without a rebalance; a short session timeout
    // bounds the wait should the broker still want one.
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONSUMER_SESSION_TIMEOUT_MS: '6000' };
    const ledger = new Ledger('plugin-sigkill');
    let plugin: PluginProcess = await startPluginProcess(env);
    let address = plugin.address;
    const restarts: number[] = [];
    const delays: number[] = [];
    /** Ids delivered and not (yet) acknowledged when a kill came. */
    const unackedAtKill: number[] = [];
    const publishers = publishLoad({ address: () => address, topic, ledger, callers: 8, deadlineMs: 5_000 });
    const consumer = consumeLoad({ address: () => address, topic, group, ledger, subscriberId: 'fault-kill-worker', ackEvery: 50, maxUnacked: 500 });
    try {
      const started = Date.now();
      let kills = 0;
      while (kills < minKills || Date.now() - started < phaseSeconds * 1_000) {
        // The consumer reconnected to this process and it answered Acks: consumption with acks is under way.
        const ackedBefore = ledger.consumerAcked.size;
        const acking = await until(() => ledger.consumerAcked.size >= ackedBefore + acksBeforeKill, 30_000);
        expect(acking, `kill ${String(kills + 1)}: the consumer had ${String(ledger.consumerAcked.size - ackedBefore)} acks answered by the restarted plugin within 30 s`).toBe(true);
        const delay = Math.floor(Math.random() * maxKillDelayMs);
        delays.push(delay);
        await sleep(delay);
        plugin.child.kill('SIGKILL');
        await plugin.exited;
        kills++;
        let outstanding = 0;
        for (const id of ledger.deliveries.keys()) if (!ledger.consumerAcked.has(id)) outstanding++;
        unackedAtKill.push(outstanding);
        const down = Date.now();
        plugin = await startPluginProcess(env);
        address = plugin.address;
        restarts.push(Date.now() - down);
      }
      // The last plugin keeps running: the consumer is back and acknowledging, the publishers go on a little, then stop.
      const ackedBefore = ledger.consumerAcked.size;
      expect(await until(() => ledger.consumerAcked.size >= ackedBefore + acksBeforeKill, 30_000)).toBe(true);
      await sleep(1_000);
      await publishers.stop();
      const missing = await awaitDelivery(ledger, 60_000);
      // Everything on the log reaches the consumer too (also records whose Publish was cut off by a kill).
      const q = client(address, 'prism.interfaces.queue.QueueBasicInterface');
      let logRecords = 0;
      let lag = -1;
      let drained = false;
      for (const end = Date.now() + 30_000; !drained && Date.now() < end;) {
        const { partitions } = await call<{ partitions: { end: string; lag: string }[] }>(q, 'GetOffsets', { topic, group });
        logRecords = partitions.reduce((n, p) => n + Number(p.end), 0);
        lag = partitions.reduce((n, p) => n + Number(p.lag), 0);
        drained = ledger.deliveries.size >= logRecords && lag === 0;
        if (!drained) await sleep(250);
      }
      await consumer.stop();
      q.close();

      ledger.extra.kills = kills;
      ledger.extra.consumer_streams = consumer.streams;
      ledger.extra.partial_acks = consumer.partialAcks;
      ledger.extra.restart_ms_max = Math.max(...restarts);
      ledger.extra.kill_delay_ms_mean = Math.round(delays.reduce((a, b) => a + b, 0) / delays.length);
      ledger.extra.delivered_unacked_at_kill_max = Math.max(...unackedAtKill);
      ledger.extra.consumer_acked = ledger.consumerAcked.size;
      ledger.extra.log_records = logRecords;
      ledger.extra.final_lag = lag;
      ledger.extra.hung_publishes = publishers.hung;
      const report = ledger.publish();

      expect(kills).toBeGreaterThanOrEqual(minKills);
      expect(report.acked).toBeGreaterThan(kills * acksBeforeKill);
      expect(missing).toEqual([]);
      expect(report.lost).toBe(0);
      // Duplicates only among messages whose Ack had not been answered.
      expect([...ledger.redeliveredAfterAck]).toEqual([]);
      // Every record on the log was delivered (each id is written at most once) and the group committed all of it.
      expect(drained, `delivered ${String(ledger.deliveries.size)} of ${String(logRecords)} records on the log, lag ${String(lag)}`).toBe(true);
      expect(report.delivered).toBe(logRecords);
      expect(publishers.hung).toBe(0);
    } finally {
      await publishers.stop();
      await consumer.stop();
      plugin.child.kill('SIGKILL');
      await plugin.exited;
    }
  }, timeoutFor(phaseSeconds, 160));
});
