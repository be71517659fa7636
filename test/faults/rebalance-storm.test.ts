import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { OpenBao } from '../support/openbao.ts';
import { ScramUsers } from '../support/scram.ts';
import { streamClient, unaryCall } from '../support/stream-client.ts';
import { describeGroup, lagging, readDeadLetters, type GroupPartition } from './support/group-audit.ts';
import { Ledger, loadSeconds, timeoutFor } from './support/ledger.ts';
import { publishLoad } from './support/load.ts';
import { faultSeed, Seeded } from './support/seeded.ts';
import type { Verdict } from './support/storm-consumer.ts';
import { StormCrowd } from './support/storm-crowd.ts';
import { StormFleet } from './support/storm-fleet.ts';

/**
 * Issue #15: ack = offset commit, so per group and partition the committed offset must never pass an offset that
 * was neither acked nor dead-lettered, however often the group's membership changes. Three plugins, one group,
 * three topics of three partitions; steady publishing; consumers that ack, requeue, dead-letter, hold and vanish;
 * every few seconds a member joins or leaves, a plugin is SIGKILLed or SIGTERMed and restarted, or rotates its
 * credentials (a real rotation: another SCRAM user in its OpenBao secret, so its group members move to new
 * clients). Then a drain, and the books are checked against the broker's own view of the group.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stormSeconds = loadSeconds(45);
const drainMs = 60_000;
const seed = faultSeed(20_261_115);
type Chaos = 'join' | 'leave' | 'vanish' | 'sigkill' | 'sigterm' | 'rotate';
/** Dealt in a seeded order, each kind twice per deck, so every run has every kind of membership change. */
const chaosDeck: Chaos[] = ['join', 'leave', 'vanish', 'sigkill', 'sigterm', 'rotate'].flatMap((k) => [k, k] as Chaos[]);

describe('fault: rebalance storm (three plugins, one group, three topics)', () => {
  it('under joins, leaves, vanishing clients, kills and rotations no offset is committed past an unsettled message', async () => {
    const id = randomUUID().slice(0, 8);
    const group = `faults-storm-g-${id}`;
    const topics = [0, 1, 2].map((n) => `faults-storm-${id}-${String(n)}`);
    const brokers = inject('kafkaBrokers');
    const rnd = new Seeded(seed);
    const ledger = new Ledger('rebalance-storm');
    ledger.extra.seed = seed;
    console.log(`faults: rebalance-storm: seed=${String(seed)} (PRISM_FAULTS_SEED=${String(seed)} replays the schedule and every per-message choice)`);
    const decide = ({ id: m, attempt }: { id: string; attempt: number }): Verdict => {
      const r = rnd.of(`${m}#${String(attempt)}`);
      if (r < 0.05) return { do: 'requeue' };
      if (r < 0.07) return { do: 'dead-letter' };
      if (r < 0.13) return { do: 'hold', ms: 1_000 + Math.floor(rnd.of(`${m}#${String(attempt)}#hold`) * 5_000) };
      return { do: 'ack' };
    };
    const fleet = await StormFleet.start(3, {
      saslBrokers: inject('kafkaSaslBrokers'), users: new ScramUsers(inject('kafkaSaslBrokers'), inject('kafkaAdminClientConfig')),
      bao: new OpenBao(inject('openbaoAddr'), inject('openbaoToken')), vaultAddr: inject('openbaoAddr'), env: {},
    });
    // The crowd draws from its own sequence: its draws depend on timing, the chaos schedule's must not.
    const crowd = new StormCrowd({ fleet, topics, group, ledger, rnd: new Seeded(seed + 1), decide, minPerTopic: 2, maxPerTopic: 4, maxUnacked: 64 });
    const publishers: ReturnType<typeof publishLoad>[] = [];
    try {
      const streams = streamClient(fleet.liveAddress(0));
      for (const topic of topics) await unaryCall(streams, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
      streams.close();
      // Three callers per topic with a short pause: a few hundred messages a second in all, through every plugin.
      topics.forEach((topic, t) => publishers.push(publishLoad({ address: () => fleet.liveAddress(t), topic, ledger, callers: 3, pauseMs: 8, idPrefix: `storm-${String(t)}` })));
      crowd.supervise();

      const chaos: Record<string, number> = {};
      let rotationsFailed = 0;
      const deck: Chaos[] = [];
      for (const end = Date.now() + stormSeconds * 1_000; Date.now() < end;) {
        await sleep(rnd.int(1_500, 3_000));
        if (deck.length === 0) deck.push(...rnd.shuffle(chaosDeck));
        const kind = deck.pop()!;
        const plugin = rnd.int(0, 2);
        chaos[kind] = (chaos[kind] ?? 0) + 1;
        if (kind === 'join') crowd.join();
        else if (kind === 'leave' || kind === 'vanish') await crowd.remove(kind);
        else if (kind === 'rotate') rotationsFailed += (await fleet.rotate(plugin)) ? 0 : 1;
        else await fleet.restart(plugin, kind === 'sigkill' ? 'SIGKILL' : 'SIGTERM');
      }

      // Drain: no more publishing or chaos; every stream acks everything until the group has caught up.
      await Promise.all(publishers.map((p) => p.stop()));
      crowd.drain();
      const drainStarted = Date.now();
      let rows: GroupPartition[] = [];
      for (const end = Date.now() + drainMs; Date.now() < end; await sleep(1_000)) {
        rows = await describeGroup(brokers, group);
        if (lagging(rows, topics, 3).length === 0 && ledger.missing().length === 0) break;
      }
      ledger.extra.drain_s = Math.round((Date.now() - drainStarted) / 100) / 10;
      await crowd.close();

      // The broker's word: committed offsets (kafka-consumer-groups) and what the dead-letter topics hold (kcat).
      rows = await describeGroup(brokers, group);
      const dead = (await Promise.all(topics.map((t) => readDeadLetters(brokers, `${t}.dlq`)))).flat();
      ledger.audit(rows, dead.map((d) => d.id));
      const skipped = ledger.skipped();
      const unsettled = [...ledger.acked].filter((m) => !ledger.settledByConsumer(m));
      const lag = lagging(rows, topics, 3);
      const nackedNotOnDlq = [...ledger.nackDeadLettered].filter((m) => !ledger.deadLettered.has(m));
      const at = (m: string) => {
        const p = ledger.positions.get(m);
        const c = rows.find((r) => r.topic === p?.topic && r.partition === p.partition)?.committed;
        return `${m}@${p?.topic ?? '?'}/${String(p?.partition)}/${String(p?.offset)} (committed ${String(c)}, delivered ${String(ledger.deliveries.get(m) ?? 0)}x)`;
      };
      Object.assign(ledger.extra, {
        ...Object.fromEntries(Object.entries(chaos).map(([k, v]) => [`chaos_${k}`, v])),
        rotations_failed: rotationsFailed, streams_opened: crowd.counts.opened,
        consumer_acked: ledger.consumerAcked.size, ack_unanswered: ledger.consumerAckUnanswered.size,
        voided_acks: crowd.streams.reduce((n, s) => n + s.voided, 0), dead_lettered: ledger.deadLettered.size,
        unsettled: unsettled.length, lagging_partitions: lag.length, hung_publishes: publishers.reduce((n, p) => n + p.hung, 0),
      });
      const report = ledger.publish();
      if (skipped.length > 0) console.log(`faults: rebalance-storm: skipped ${skipped.slice(0, 10).map(at).join('; ')}`);
      if (unsettled.length > 0) console.log(`faults: rebalance-storm: unsettled ${unsettled.slice(0, 10).map(at).join('; ')}`);

      expect(Object.values(chaos).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
      // At least 50 msg/s sustained: the storm ran under load.
      expect(report.acked).toBeGreaterThan(stormSeconds * 50);
      expect(skipped.slice(0, 10).map(at), `${String(skipped.length)} messages skipped (seed ${String(seed)})`).toEqual([]);
      expect(report.lost).toBe(0);
      expect(lag).toEqual([]);
      expect(unsettled.slice(0, 10).map(at), `${String(unsettled.length)} acked publishes neither consumer-acked nor dead-lettered`).toEqual([]);
      expect(nackedNotOnDlq).toEqual([]);
      expect(rotationsFailed).toBe(0);
    } finally {
      await Promise.all(publishers.map((p) => p.stop()));
      await crowd.close();
      await fleet.stopAll();
    }
  }, timeoutFor(stormSeconds, 150));
});
