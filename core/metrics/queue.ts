import { Gauge, type Registry } from 'prom-client';

/** Lag of one partition for one consumer group: end offset − committed offset (− start offset when none committed). */
export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** What the queue gauges read at scrape time; the composition root points them at the current deps. */
export interface QueueSources {
  /** Delivered-and-unacknowledged messages per topic, over the open subscriptions (0 for an idle one). */
  unackedByTopic(): Map<string, number>;
  /** The last lag readings of the watched groups (open subscriptions, the configured group, groups served here). */
  lag(): LagSample[];
}

const none: QueueSources = { unackedByTopic: () => new Map(), lag: () => [] };

/**
 * Gauges of the queue subscriptions. Both are rebuilt at every scrape from the sources, so nothing stale stays
 * behind: unacked covers open subscriptions only; lag covers the watched groups, which outlive their last member
 * on purpose (core/lag/watched.ts says when one is dropped). Label values are topics, groups and partition numbers,
 * bounded by the lag monitor's pair cap, never ids or keys.
 */
export function createQueueMetrics(registers: Registry[]) {
  let sources = none;
  return {
    source: (next: QueueSources) => {
      sources = next;
    },
    unacked: new Gauge({
      name: 'prism_queue_unacked',
      help: 'Messages delivered to queue subscribers and not yet acknowledged',
      labelNames: ['topic'],
      registers,
      collect() {
        this.reset();
        for (const [topic, n] of sources.unackedByTopic()) this.set({ topic }, n);
      },
    }),
    consumerLag: new Gauge({
      name: 'prism_consumer_lag',
      help: 'Records after the committed offset, per consumer group served here or configured, also with no member left (refreshed every few seconds)',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.lag()) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag);
      },
    }),
  };
}
