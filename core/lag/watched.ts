import type { PartitionOffsets } from '../kafka/group-port.ts';
import type { GroupTopic } from './subscriptions.ts';

export interface WatchedGroupsOptions {
  /** The (group, topic) pairs of the open queue subscriptions. */
  open: () => GroupTopic[];
  /** Pairs watched from the start, whether or not anyone subscribes here (the configured default group and topic). */
  configured?: readonly GroupTopic[];
  /** At most this many served pairs are remembered once idle; the least recently served is forgotten first. */
  maxIdle: number;
}

const keyOf = (p: GroupTopic) => `${p.group}\u0000${p.topic}`;

/**
 * Which consumer groups have their lag reported. A group whose last member left is the moment an alert on its lag
 * matters most (nobody is consuming), so the pairs this process has served and the configured pair stay watched
 * after their subscriptions close. An idle pair is dropped for one explicit reason: its group has no committed offset
 * left on the topic (offsets deleted with `kafka-consumer-groups --delete-offsets` or `--delete`, expired after the
 * broker's `offsets.retention.minutes`, or the topic recreated) — there is then no position to measure lag from. The
 * configured pair is never forgotten, it just has no series while nothing is committed. Memory is bounded by
 * `maxIdle`; served pairs are forgotten on restart (the configured one is watched again from the start).
 */
export class WatchedGroups {
  readonly #o: WatchedGroupsOptions;
  /** Served pairs in the order last served (most recent last). */
  readonly #served = new Map<string, GroupTopic>();

  constructor(options: WatchedGroupsOptions) {
    this.#o = options;
  }

  /** A subscription of `pair` opened here: watch it from now on, also after it closes. */
  served(pair: GroupTopic): void {
    const key = keyOf(pair);
    this.#served.delete(key);
    this.#served.set(key, { group: pair.group, topic: pair.topic });
    for (const k of this.#served.keys()) {
      if (this.#served.size <= this.#o.maxIdle) break;
      this.#served.delete(k);
    }
  }

  /** Every watched pair, once: open ones first (they are read first under a cap), then configured, then idle ones, most recently served first. */
  pairs(): GroupTopic[] {
    const out = new Map<string, GroupTopic>();
    for (const p of this.#o.open()) out.set(keyOf(p), p);
    for (const p of this.#o.configured ?? []) if (!out.has(keyOf(p))) out.set(keyOf(p), p);
    for (const p of [...this.#served.values()].reverse()) if (!out.has(keyOf(p))) out.set(keyOf(p), p);
    return [...out.values()];
  }

  /**
   * Whether a reading of `pair` is reported. An open subscription's always is (nothing committed yet: the whole log
   * is lag). An idle pair with nothing committed is not, and a served one is forgotten.
   */
  keep(pair: GroupTopic, partitions: readonly PartitionOffsets[]): boolean {
    if (partitions.some((p) => p.committed !== undefined)) return true;
    const key = keyOf(pair);
    if (this.#o.open().some((p) => keyOf(p) === key)) return true;
    this.#served.delete(key);
    return false;
  }
}
