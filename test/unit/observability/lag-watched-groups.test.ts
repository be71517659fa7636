import { describe, expect, it } from 'vitest';
import type { PartitionOffsets } from '../../../core/kafka/group-port.ts';
import { LagMonitor } from '../../../core/lag/monitor.ts';
import { observeQueues } from '../../../core/lag/observer.ts';
import type { WatchedSubscription } from '../../../core/lag/subscriptions.ts';
import { WatchedGroups } from '../../../core/lag/watched.ts';
import { createLogger } from '../../../core/logger.ts';
import { createMetrics } from '../../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../../core/secrets/scrubber.ts';

const log = createLogger({ level: 'info', service: 's', version: 'v', scrubber: new SecretScrubber(), write: () => undefined });
const p = (partition: number, committed: string | undefined, end: string): PartitionOffsets => ({ partition, committed, end, start: '0' });

/** observeQueues over an in-memory offsets table and session registry; `lag()` scrapes prism_consumer_lag. */
function setup(configured?: { group: string; topic: string }[]) {
  const table = new Map<string, PartitionOffsets[]>();
  const sessions = new Map<string, WatchedSubscription>();
  const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
  const queues = observeQueues({
    groups: { offsets: (group, topic) => Promise.resolve(table.get(`${group}/${topic}`) ?? []) },
    sessions: { get: (id) => sessions.get(id) as never },
    metrics,
    log,
    ...(configured === undefined ? {} : { configured }),
  });
  const open = (id: string, group: string, topic: string) => {
    const s: WatchedSubscription = { options: { id, group, topic }, unacked: 0 };
    sessions.set(id, s);
    queues.subscriptions.add(s);
  };
  const lag = async () => {
    const { values } = await metrics.queue.consumerLag.get();
    return values.map((v) => `${v.labels.group}/${v.labels.topic}/${v.labels.partition}=${v.value}`).sort();
  };
  return { table, sessions, queues, open, lag };
}

describe('prism_consumer_lag of groups with no member left', () => {
  it('keeps reporting a served group after its last subscription closed, and follows its end offsets', async () => {
    const { table, sessions, queues, open, lag } = setup();
    try {
      table.set('g/orders', [p(0, '5', '8'), p(1, '2', '2')]);
      open('w1~a', 'g', 'orders');
      await queues.lag.refresh();
      expect(await lag()).toEqual(['g/orders/0=3', 'g/orders/1=0']);
      sessions.delete('w1~a');
      expect(queues.subscriptions.pairs()).toEqual([]);
      // Closed: still reported between refreshes, and after the next one with the new end offsets.
      expect(await lag()).toEqual(['g/orders/0=3', 'g/orders/1=0']);
      table.set('g/orders', [p(0, '5', '20'), p(1, '2', '9')]);
      await queues.lag.refresh();
      expect(await lag()).toEqual(['g/orders/0=15', 'g/orders/1=7']);
    } finally {
      queues.stop();
    }
  });

  it('drops an idle group once it has no committed offset left (offsets deleted or expired), but not an open one', async () => {
    const { table, sessions, queues, open, lag } = setup();
    try {
      table.set('idle/t', [p(0, '1', '4')]);
      table.set('busy/t', [p(0, undefined, '4')]);
      open('a~1', 'idle', 't');
      open('b~1', 'busy', 't');
      // The first open started a read of 'idle' alone; the next round reads both.
      await queues.lag.refresh();
      await queues.lag.refresh();
      expect(await lag()).toEqual(['busy/t/0=4', 'idle/t/0=3']);
      sessions.delete('a~1');
      table.set('idle/t', [p(0, undefined, '4')]);
      await queues.lag.refresh();
      // The open subscription with nothing committed yet: all of the log is lag. The idle one is gone for good.
      expect(await lag()).toEqual(['busy/t/0=4']);
      table.set('idle/t', [p(0, '1', '4')]);
      await queues.lag.refresh();
      expect(await lag()).toEqual(['busy/t/0=4']);
    } finally {
      queues.stop();
    }
  });

  it('reports the configured group from the first scrape on, only while it has committed offsets', async () => {
    const { table, queues, lag } = setup([{ group: 'prism-consumers', topic: 'events' }]);
    try {
      table.set('prism-consumers/events', [p(0, '10', '25')]);
      // The first scrape starts the monitor (nothing is read before anyone looks); its reading lands shortly after.
      expect(await lag()).toEqual([]);
      await queues.lag.refresh();
      expect(await lag()).toEqual(['prism-consumers/events/0=15']);
      table.set('prism-consumers/events', [p(0, undefined, '25')]);
      await queues.lag.refresh();
      expect(await lag()).toEqual([]);
      // Never forgotten: offsets committed again (a consumer elsewhere) are reported again.
      table.set('prism-consumers/events', [p(0, '20', '25')]);
      await queues.lag.refresh();
      expect(await lag()).toEqual(['prism-consumers/events/0=5']);
    } finally {
      queues.stop();
    }
  });

  it('remembers at most maxIdle served pairs, forgetting the least recently served first; open pairs come first', () => {
    let open = [{ group: 'o', topic: 't' }];
    const watched = new WatchedGroups({ open: () => open, configured: [{ group: 'c', topic: 't' }], maxIdle: 2 });
    watched.served({ group: 'a', topic: 't' });
    watched.served({ group: 'b', topic: 't' });
    watched.served({ group: 'a', topic: 't' });
    watched.served({ group: 'd', topic: 't' });
    expect(watched.pairs().map((x) => x.group)).toEqual(['o', 'c', 'd', 'a']);
    open = [];
    expect(watched.pairs().map((x) => x.group)).toEqual(['c', 'd', 'a']);
  });
});

describe('queue event counters', () => {
  it('exist at 0 for a topic from its first subscription, so rate() sees the first event', async () => {
    const metrics = createMetrics({ namespace: 'test', defaultMetrics: false });
    const observed = observeQueues({ groups: { offsets: () => Promise.resolve([]) }, sessions: { get: () => undefined }, metrics, log });
    try {
      observed.subscriptions.add({ options: { id: 'x~1', group: 'g', topic: 'orders' }, unacked: 0 });
      const text = await metrics.registry.metrics();
      for (const name of ['prism_queue_redeliveries_total', 'prism_queue_dead_lettered_total', 'prism_queue_commit_failures_total', 'prism_queue_rebalances_total']) {
        expect(text).toContain(`${name}{topic="orders",namespace="test"} 0`);
      }
      metrics.queueEvents.commitFailures.inc({ topic: 'orders' });
      expect(await metrics.registry.metrics()).toContain('prism_queue_commit_failures_total{topic="orders",namespace="test"} 1');
    } finally {
      observed.stop();
    }
  });
});

describe('a read that never answers', () => {
  it('holds back neither the other pairs nor later rounds, and is not started again while it hangs', async () => {
    let calls = 0;
    let end = '4';
    const monitor = new LagMonitor({
      groups: {
        offsets: (group) => {
          calls++;
          // The configured topic does not exist yet: this read hangs (as a metadata request can, until its timeout).
          if (group === 'stuck') return new Promise<PartitionOffsets[]>(() => undefined);
          return Promise.resolve([p(0, '1', end)]);
        },
      },
      pairs: () => [{ group: 'stuck', topic: 'events' }, { group: 'g', topic: 'orders' }],
      intervalMs: 60_000, maxPairs: 10, timeoutMs: 30,
    });
    await monitor.refresh();
    expect(monitor.samples()).toEqual([{ group: 'g', topic: 'orders', partition: 0, lag: 3 }]);
    end = '9';
    await monitor.refresh();
    expect(monitor.samples()).toEqual([{ group: 'g', topic: 'orders', partition: 0, lag: 8 }]);
    // Two rounds: 'g' read twice, 'stuck' once.
    expect(calls).toBe(3);
  });
});
