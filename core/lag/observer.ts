import type { GroupPort } from '../kafka/group-port.ts';
import { LagMonitor } from './monitor.ts';
import { OpenSubscriptions, type GroupTopic } from './subscriptions.ts';
import { WatchedGroups } from './watched.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { SessionRegistry } from '../queue/registry.ts';

/** Lag is read this often; consumer lag moves at the pace of acks, and three admin requests per group are cheap. */
const lagIntervalMs = 5_000;
/** At most this many (group, topic) pairs are read per round (bounds broker load and series). */
const maxLagPairs = 100;
/** A pair that has not answered by then has no lag until the next round. */
const lagTimeoutMs = 4_000;

export interface ObserveQueuesOptions {
  groups: Pick<GroupPort, 'offsets'>;
  sessions: Pick<SessionRegistry, 'get'>;
  metrics: Pick<Metrics, 'queue' | 'queueEvents'>;
  log: Logger;
  /** Pairs whose lag is reported even if no subscription opens here (the configured default group and topic). */
  configured?: readonly GroupTopic[];
}

/**
 * Wires queue observability for one set of deps: the open subscriptions (the session registry decides what is
 * open), the watched groups (open, configured, and served ones after their last member left), a lag monitor over
 * them, and the queue gauges pointed at both. The monitor starts with the first subscription, or with the first
 * scrape when pairs are configured (nothing reads offsets before anyone looks). Call `stop()` when the deps close.
 */
export function observeQueues(o: ObserveQueuesOptions) {
  // A counter series born at 1 hides its first increment from rate() and increase(): an alert on the first commit
  // failure of a topic would never fire. Each topic's queue event counters exist at 0 from its first subscription.
  const zeroEvents = (topic: string) => {
    for (const counter of Object.values(o.metrics.queueEvents)) counter.inc({ topic }, 0);
  };
  const subscriptions: OpenSubscriptions = new OpenSubscriptions({
    isOpen: (s) => o.sessions.get(s.options.id) === s,
    onAdd: (s) => {
      watched.served(s.options);
      zeroEvents(s.options.topic);
      lag.start();
    },
  });
  const watched = new WatchedGroups({ open: () => subscriptions.pairs(), configured: o.configured ?? [], maxIdle: maxLagPairs });
  const lag: LagMonitor = new LagMonitor({
    groups: o.groups,
    pairs: () => watched.pairs(),
    keep: (pair, partitions) => watched.keep(pair, partitions),
    intervalMs: lagIntervalMs,
    maxPairs: maxLagPairs,
    timeoutMs: lagTimeoutMs,
    log: o.log,
  });
  const lagSamples = () => {
    if ((o.configured ?? []).length > 0) lag.start();
    return lag.samples();
  };
  o.metrics.queue.source({ unackedByTopic: () => subscriptions.unackedByTopic(), lag: lagSamples });
  return { subscriptions, lag, stop: () => lag.stop() };
}
