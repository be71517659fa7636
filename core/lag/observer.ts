import type { GroupPort } from '../kafka/group-port.ts';
import { LagMonitor } from './monitor.ts';
import { OpenSubscriptions } from './subscriptions.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { SessionRegistry } from '../queue/registry.ts';

/** Lag is read this often; consumer lag moves at the pace of acks, and three admin requests per group are cheap. */
const lagIntervalMs = 5_000;
/** At most this many (group, topic) pairs are read per round (bounds broker load and series). */
const maxLagPairs = 100;
/** A pair that has not answered by then has no lag until the next round. */
const lagTimeoutMs = 4_000;

/**
 * Wires queue observability for one set of deps: the open subscriptions (the session registry decides what is
 * open), a lag monitor over their groups that starts with the first subscription, and the queue gauges pointed at
 * both. Call `stop()` when the deps close.
 */
export function observeQueues(o: { groups: Pick<GroupPort, 'offsets'>; sessions: Pick<SessionRegistry, 'get'>; metrics: Pick<Metrics, 'queue'>; log: Logger }) {
  const subscriptions: OpenSubscriptions = new OpenSubscriptions({
    isOpen: (s) => o.sessions.get(s.options.id) === s,
    onAdd: () => lag.start(),
  });
  const lag: LagMonitor = new LagMonitor({
    groups: o.groups,
    pairs: () => subscriptions.pairs(),
    intervalMs: lagIntervalMs,
    maxPairs: maxLagPairs,
    timeoutMs: lagTimeoutMs,
    log: o.log,
  });
  o.metrics.queue.source({ unackedByTopic: () => subscriptions.unackedByTopic(), lag: () => lag.samples() });
  return { subscriptions, lag, stop: () => lag.stop() };
}
