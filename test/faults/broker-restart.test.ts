// Fault scenario 1 of issue #11: the (only) broker restarts twice, cleanly (SIGTERM) and after a crash (SIGKILL),
// while publishers and a consumer keep working through the plugin. Nothing the plugin acknowledged may be lost;
// publishes during the outage fail with UNAVAILABLE (or the caller's DEADLINE_EXCEEDED) or succeed after a retry, never
// hang past their deadline; publishing recovers within 30 s of the broker being back.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaAdmin } from '../support/kafka-admin.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { privateBroker, type PrivateBroker } from '../support/private-broker.ts';
import { claimPorts, type PortSlot } from './support/port-slot.ts';
import { Ledger, loadSeconds, timeoutFor } from './support/ledger.ts';
import { awaitDelivery, consumeLoad, publishLoad, recoverySeconds } from './support/load.ts';
import { closeBrokerFaultBooks, stopKeepingLog } from './support/plugin-state.ts';

const LOAD = loadSeconds(9);
// C1-only JIT for this broker's JVM (lib.sh splits KAFKA_HEAP_OPTS into JVM flags): it starts in about half the time
// on two busy cores, and each of the two restarts waits for a start. Set before privateBroker() copies the environment.
process.env.KAFKA_HEAP_OPTS ??= '-Xmx512m -XX:TieredStopAtLevel=1';
/**
 * A broker of its own (stopping the shared one would break other test files), in one of four port blocks of 5 from
 * 29100 (concurrent runs on one machine each get their own): PLAINTEXT +0, SASL +1, controller +2, the unused OpenBao
 * slot +3, the plugin +4. State in .cache/faults/broker-restart/slot-<n>; its data is kept between runs.
 */
const SLOT = { base: 29100, width: 5, slots: 4 };
const DEADLINE_MS = 5_000;
const RECOVERY_LIMIT_S = 30;
/** How long the broker stays down once stopped: long enough that publishes meet a dead broker, not just a slow one. */
const OUTAGE_MS = 3_000;

const root = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

let plugin: PluginProcess | undefined;
let topic: string | undefined;
let slot: PortSlot | undefined;
let broker: PrivateBroker | undefined;
let stateDir = '';
let pluginPort = '';

beforeAll(async () => {
  const dirOf = (index: number) => `.cache/faults/broker-restart/slot-${String(index)}`;
  const brokerOf = (index: number) => privateBroker({ dir: dirOf(index), plaintextPort: SLOT.base + index * SLOT.width });
  // A run that died left its broker running: down.sh finds it by its config path and stops it.
  slot = await claimPorts('broker-restart', { ...SLOT, onStale: (index) => brokerOf(index).down() });
  stateDir = join(root, dirOf(slot.index));
  broker = brokerOf(slot.index);
  pluginPort = String(slot.ports[4]);
  await broker.up();
}, 150_000);

afterAll(async () => {
  if (plugin !== undefined) await stopKeepingLog(plugin, join(stateDir, 'plugin.log'));
  // The broker's data is kept between runs (a restart is faster than a format): drop this run's topic so it stays small.
  if (topic !== undefined && broker !== undefined) {
    const admin = kafkaAdmin(broker.brokers, { clientId: 'faults-restart-cleanup', retries: 1, requestTimeoutMs: 5_000 });
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
  await broker?.down();
  slot?.release();
}, 90_000);

/** The private broker's JVM pid (from up.sh's pid file), checked against its command line before it is used. */
function brokerPid(): number {
  const kafkaDir = join(stateDir, 'kafka');
  const pid = Number(readFileSync(join(kafkaDir, 'kafka.pid'), 'utf8').trim());
  const cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8');
  if (!cmdline.includes(join(kafkaDir, 'server.properties'))) throw new Error(`pid ${String(pid)} is not this test's broker`);
  return pid;
}

/** True while the process exists and is not a zombie (a killed daemon may linger unreaped, holding nothing). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** How the broker goes away: a clean stop (down.sh: SIGTERM, controlled shutdown), or a crash (SIGKILL of the JVM). */
type Kind = 'graceful' | 'crash';

async function stopBroker(kind: Kind): Promise<void> {
  if (kind === 'graceful') return broker!.down();
  const pid = brokerPid();
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + 10_000;
  while (alive(pid) && Date.now() < until) await sleep(50);
  if (alive(pid)) throw new Error(`broker pid ${String(pid)} survived SIGKILL`);
}

describe('broker restart during continuous publish and consume', () => {
  it('no acknowledged message lost; outage publishes fail UNAVAILABLE or succeed, never hang; recovery within 30 s', async () => {
    const b = broker!;
    const ledger = new Ledger('broker-restart');
    topic = `faults-restart-${randomUUID().slice(0, 8)}`;
    const group = `faults-restart-g-${randomUUID().slice(0, 8)}`;
    plugin = await startPluginProcess({
      KAFKA_BROKERS: b.brokers,
      KAFKA_TOPIC: topic,
      PRISM_CONTROL_PLANE_PORT: pluginPort,
      PRISM_SHUTDOWN_GRACE_SECONDS: '3',
      PRISM_LOG_LEVEL: 'info',
    });
    const address = () => plugin!.address;
    const consumer = consumeLoad({ address, topic, group, ledger, subscriberId: 'restart-consumer' });
    const publisher = publishLoad({ address, topic, ledger, callers: 8, deadlineMs: DEADLINE_MS });
    const cycles: { kind: Kind; stopBegan: number; stopped: number; startBegan: number; back: number; recovery: number | undefined }[] = [];
    let missing: string[] = [];
    try {
      // Steady load first (the first publish also creates the topic).
      const warm = Date.now();
      while (Date.now() - warm < (LOAD * 1_000) / 3 || ledger.acked.size === 0 || ledger.deliveries.size === 0) {
        if (Date.now() - warm > 30_000) throw new Error(`no steady load within 30 s (acked=${String(ledger.acked.size)}, delivered=${String(ledger.deliveries.size)}, failed=${JSON.stringify(ledger.failures)})`);
        await sleep(200);
      }
      ledger.extra.acked_before_stop = ledger.acked.size;

      // Two restarts under the same load: a clean one, then a crash.
      for (const kind of ['graceful', 'crash'] as const) {
        const stopBegan = Date.now();
        await stopBroker(kind);
        const stopped = Date.now();
        await sleep(OUTAGE_MS);
        const startBegan = Date.now();
        await b.up();
        const back = Date.now();
        // Load continues until publishes succeed again, then for a third of the load time before the next step.
        while (recoverySeconds(publisher.outcomes, back) === undefined && Date.now() - back < (RECOVERY_LIMIT_S + 10) * 1_000) await sleep(200);
        const recovery = recoverySeconds(publisher.outcomes, back);
        cycles.push({ kind, stopBegan, stopped, startBegan, back, recovery });
        if (recovery === undefined) break;
        await sleep(Math.max(3_000, (LOAD * 1_000) / 3 - (Date.now() - back)));
      }
      await publisher.stop();
      missing = await awaitDelivery(ledger, 30_000);
    } finally {
      await publisher.stop();
      await consumer.stop();
    }

    for (const c of cycles) {
      // Calls that began after the broker started to stop and ended before it answered again met the outage.
      const during = publisher.outcomes.filter((o) => o.at - o.ms >= c.stopBegan && o.at <= c.back);
      Object.assign(ledger.extra, {
        [`${c.kind}_stop_s`]: seconds(c.stopped - c.stopBegan),
        [`${c.kind}_start_s`]: seconds(c.back - c.startBegan),
        [`${c.kind}_calls_in_outage`]: during.length,
        [`${c.kind}_failed_in_outage`]: during.filter((o) => !o.ok).length,
        [`${c.kind}_recovery_s`]: c.recovery ?? 'none',
      });
    }
    const last = cycles.at(-1);
    ledger.extra.ok_after_last_restart = last === undefined ? 0 : publisher.outcomes.filter((o) => o.ok && o.at - o.ms >= last.back).length;
    const report = closeBrokerFaultBooks(ledger, plugin, publisher, consumer, missing);
    expect(cycles.map((c) => c.kind)).toEqual(['graceful', 'crash']);
    for (const c of cycles) {
      // Each outage was real (publishes met the stopped broker and failed), and publishing came back in time.
      expect(ledger.extra[`${c.kind}_failed_in_outage`], `${c.kind}: no publish failed while the broker was down`).toBeGreaterThan(0);
      expect(c.recovery, `${c.kind}: no publish succeeded after the broker came back`).toBeDefined();
      expect(c.recovery!).toBeLessThanOrEqual(RECOVERY_LIMIT_S);
    }
    expect(ledger.extra.ok_after_last_restart).toBeGreaterThan(10);
    expect(report.acked).toBeGreaterThan(Number(ledger.extra.acked_before_stop));
  }, timeoutFor(LOAD, 180));
});
