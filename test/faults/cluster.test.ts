// Fault scenario 2 of issue #11: a three-broker cluster (three combined KRaft nodes on loopback), a topic with
// replication factor 3 and min.insync.replicas 2, publish+consume load through the plugin, and a SIGKILL of the broker
// that leads every partition of the topic. Nothing the plugin acknowledged may be lost, no call may hang past its
// deadline, failures may only be UNAVAILABLE / DEADLINE_EXCEEDED, and publishes must recover through the new leaders.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { kafkaCluster, stopLeftoverNodes, type KafkaCluster } from './support/cluster.ts';
import { claimPorts, type PortSlot } from './support/port-slot.ts';
import { Ledger, loadSeconds, timeoutFor } from './support/ledger.ts';
import { awaitDelivery, consumeLoad, publishLoad, type Outcome } from './support/load.ts';
import { closeBrokerFaultBooks, stopKeepingLog } from './support/plugin-state.ts';

const LOAD = loadSeconds(9);
/**
 * Port blocks of 10 from 29120 (four, so concurrent runs on one machine each get their own): brokers at +0…+2,
 * controllers at +3…+5, the plugin at +6. State in .cache/faults/cluster/slot-<n>, wiped at each start.
 */
const SLOT = { base: 29120, width: 10, slots: 4 };
const DEADLINE_MS = 5_000;
const RECOVERY_LIMIT_S = 30;
/** The node made preferred leader of every partition, and killed. */
const LEADER = 2;

const root = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (t: number, now = Date.now()) => Math.round((now - t) / 100) / 10;
const started = (o: Outcome) => o.at - o.ms;

let plugin: PluginProcess | undefined;
let slot: PortSlot | undefined;
let cluster: KafkaCluster;
let pluginPort = '';

beforeAll(async () => {
  const dirOf = (index: number) => `.cache/faults/cluster/slot-${String(index)}`;
  slot = await claimPorts('cluster', { ...SLOT, onStale: (index) => stopLeftoverNodes(dirOf(index)) });
  cluster = kafkaCluster({ dir: dirOf(slot.index), basePort: slot.ports[0]! });
  pluginPort = String(slot.ports[6]);
  await cluster.up();
}, 150_000);

afterAll(async () => {
  if (plugin !== undefined) await stopKeepingLog(plugin, join(root, `.cache/faults/cluster/slot-${String(slot!.index)}/plugin.log`));
  await cluster?.down();
  slot?.release();
}, 60_000);

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(500);
  }
  return undefined;
}

describe('three-broker cluster: the partition leaders\' broker is SIGKILLed under load', () => {
  it('no acknowledged message lost, no call hangs, publishes recover through the new leaders', async () => {
    const ledger = new Ledger('cluster-leader-kill');
    const topic = `faults-cluster-${randomUUID().slice(0, 8)}`;
    const group = `faults-cluster-g-${randomUUID().slice(0, 8)}`;
    await cluster.createTopic(topic, { partitions: 3, replicas: 3, minInsyncReplicas: 2, leader: LEADER });
    const before = await until(async () => {
      const t = await cluster.describe(topic);
      return t.partitions.length === 3 && t.partitions.every((p) => p.leader === LEADER && p.isr.length === 3) ? t : undefined;
    }, 20_000);
    // The scenario is only meaningful if the broker we kill leads every partition, with the full ISR behind it.
    expect(before?.partitions.map((p) => ({ leader: p.leader, replicas: p.replicas.length, isr: p.isr.length }))).toEqual(
      [0, 1, 2].map(() => ({ leader: LEADER, replicas: 3, isr: 3 })));

    plugin = await startPluginProcess({
      KAFKA_BROKERS: cluster.brokers,
      KAFKA_TOPIC: topic,
      KAFKA_AUTO_CREATE_TOPICS: 'false',
      PRISM_CONTROL_PLANE_PORT: pluginPort,
      PRISM_SHUTDOWN_GRACE_SECONDS: '3',
      PRISM_LOG_LEVEL: 'info',
    });
    const address = () => plugin!.address;
    const consumer = consumeLoad({ address, topic, group, ledger, subscriberId: 'cluster-consumer' });
    const publisher = publishLoad({ address, topic, ledger, callers: 8, deadlineMs: DEADLINE_MS });
    let killedAt = 0;
    let coordinator: number | undefined;
    const ready = { checks: 0, notReady: 0 };
    let stopReadiness = false;
    let readiness: Promise<void> | undefined;
    let recovery: number | undefined;
    let missing: string[] = [];
    let after: Awaited<ReturnType<typeof cluster.describe>> | undefined;
    let rejoinSeconds: number | undefined;
    try {
      // Steady load first: both publishes and deliveries flowing through the cluster.
      const warm = Date.now();
      while (Date.now() - warm < (LOAD * 1_000) / 3 || ledger.acked.size === 0 || ledger.deliveries.size === 0) {
        if (Date.now() - warm > 30_000) throw new Error(`no steady load within 30 s (acked=${String(ledger.acked.size)}, delivered=${String(ledger.deliveries.size)}, failed=${JSON.stringify(ledger.failures)})`);
        await sleep(200);
      }
      ledger.extra.acked_before_kill = ledger.acked.size;
      // Whether the kill also takes the group's coordinator away (the leader of the group's offsets partition).
      coordinator = await cluster.coordinator(group).catch(() => undefined);

      // Readiness while a broker is gone: two of three brokers answer, so the plugin must stay ready throughout
      // (an answer other than 200, or none within 5 s, counts against it).
      readiness = (async () => {
        while (!stopReadiness) {
          const status = await fetch(`http://${address()}/ready`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
          ready.checks += 1;
          if (status !== 200) ready.notReady += 1;
          await sleep(500);
        }
      })();
      const killBegan = Date.now();
      await cluster.kill(LEADER, 'SIGKILL');
      killedAt = Date.now();
      ledger.extra.kill_ms = killedAt - killBegan;

      // Keep the load up until publishes succeed again (through new leaders), then for the rest of the load time.
      const firstOk = () => publisher.outcomes.find((o) => o.ok && started(o) >= killedAt);
      while (firstOk() === undefined && Date.now() - killedAt < (RECOVERY_LIMIT_S + 10) * 1_000) await sleep(200);
      const ok = firstOk();
      recovery = ok === undefined ? undefined : Math.round((ok.at - killedAt) / 100) / 10;
      const steadyFor = Math.max(3_000, (LOAD * 2_000) / 3 - (Date.now() - killedAt));
      await sleep(ok === undefined ? 0 : steadyFor);
      await publisher.stop();
      stopReadiness = true;
      await readiness;
      after = await cluster.describe(topic).catch(() => undefined);

      missing = await awaitDelivery(ledger, 30_000);

      // Optional last step: the killed broker comes back and catches up (every partition's ISR full again).
      const rejoinBegan = Date.now();
      await cluster.start(LEADER);
      const rejoined = await until(async () => {
        const t = await cluster.describe(topic);
        return t.partitions.every((p) => p.isr.length === 3) ? t : undefined;
      }, 30_000);
      rejoinSeconds = rejoined === undefined ? undefined : secondsSince(rejoinBegan);
    } finally {
      stopReadiness = true;
      await readiness;
      await publisher.stop();
      await consumer.stop();
    }

    const afterKill = publisher.outcomes.filter((o) => started(o) >= killedAt);
    const okAfterKill = afterKill.filter((o) => o.ok).length;
    ledger.extra.killed_broker = LEADER;
    ledger.extra.coordinator_killed = coordinator === undefined ? 'unknown' : coordinator === LEADER ? 'yes' : 'no';
    ledger.extra.new_leaders = after?.partitions.map((p) => p.leader).join('/') ?? 'unknown';
    ledger.extra.calls_after_kill = afterKill.length;
    ledger.extra.ok_after_kill = okAfterKill;
    ledger.extra.recovery_s = recovery ?? 'none';
    ledger.extra.ready_checks = ready.checks;
    ledger.extra.not_ready = ready.notReady;
    ledger.extra.rejoin_s = rejoinSeconds ?? 'none';
    const report = closeBrokerFaultBooks(ledger, plugin, publisher, consumer, missing);
    expect(recovery, 'no publish succeeded after the kill').toBeDefined();
    expect(recovery!).toBeLessThanOrEqual(RECOVERY_LIMIT_S);
    // Publishes kept coming after the kill and succeeded through new leaders, none of them the killed broker.
    expect(okAfterKill).toBeGreaterThan(10);
    expect(after?.partitions.every((p) => p.leader !== LEADER && p.leader >= 0 && p.isr.length >= 2)).toBe(true);
    expect(report.acked).toBeGreaterThan(Number(ledger.extra.acked_before_kill));
    // The plugin kept serving: ready at every check while one broker was dead.
    expect(ready.checks).toBeGreaterThan(5);
    expect(ready.notReady).toBe(0);
    expect(rejoinSeconds, 'the restarted broker did not rejoin every ISR within 30 s').toBeDefined();
  }, timeoutFor(LOAD, 150));
});
