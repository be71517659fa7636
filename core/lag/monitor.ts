import type { GroupPort, PartitionOffsets } from '../kafka/group-port.ts';
import type { GroupTopic } from './subscriptions.ts';
import type { Logger } from '../logger.ts';
import type { LagSample } from '../metrics/queue.ts';

export interface LagMonitorOptions {
  /** The same offsets GetOffsets reports (and `kafka-consumer-groups --describe` shows). */
  groups: Pick<GroupPort, 'offsets'>;
  /** The (group, topic) pairs of the open queue subscriptions. */
  pairs: () => GroupTopic[];
  intervalMs: number;
  /**
   * At most this many pairs are read per refresh (three small admin requests each): bounds the broker load and the
   * number of series, however many groups clients open.
   */
  maxPairs: number;
  /** A pair that has not answered within this long has no lag until the next refresh (unknown, not stale). */
  timeoutMs: number;
  log?: Pick<Logger, 'debug'>;
}

/** Lag as GetOffsets computes it: nothing committed yet means everything still in the log is lag. */
function lagOf(p: PartitionOffsets): number {
  return Number(BigInt(p.end) - BigInt(p.committed ?? p.start));
}

/** Resolves with the value, or undefined when the promise rejects or takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

/**
 * Reads the consumer lag of the groups of open queue subscriptions every `intervalMs` and keeps the last readings
 * for the `prism_consumer_lag` gauge and the health details. A scrape never waits for Kafka. A pair whose read fails
 * has no samples (absent, not stale), and a new round starts only after the previous reads ended, so a hung broker
 * never piles up requests.
 */
export class LagMonitor {
  readonly #o: LagMonitorOptions;
  #samples: LagSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #reading: Promise<void> | undefined;
  #updated: Promise<void> = Promise.resolve();

  constructor(options: LagMonitorOptions) {
    this.#o = options;
  }

  /** Starts refreshing (first refresh at once). Idempotent; a no-op once stopped. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Stops for good: the deps are closing, and a subscription opened during the close must not restart it. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the lag now; resolves when the readings are updated (at most `timeoutMs` later). */
  refresh(): Promise<void> {
    if (this.#reading !== undefined) return this.#updated;
    const pairs = this.#o.pairs().slice(0, this.#o.maxPairs);
    const reads = pairs.map((p) => this.#o.groups.offsets(p.group, p.topic));
    this.#reading = Promise.allSettled(reads).then(() => {
      this.#reading = undefined;
    });
    this.#updated = Promise.all(reads.map((r) => within(r, this.#o.timeoutMs))).then((results) => {
      const samples: LagSample[] = [];
      results.forEach((partitions, i) => {
        const { group, topic } = pairs[i]!;
        if (partitions === undefined) this.#o.log?.debug({ group, topic }, 'consumer lag unknown: offsets did not answer');
        for (const p of partitions ?? []) samples.push({ group, topic, partition: p.partition, lag: lagOf(p) });
      });
      this.#samples = samples;
    });
    return this.#updated;
  }

  /**
   * The last readings, one per partition of each (group, topic) pair that answered, limited to the pairs still open
   * (a subscription that closed since the last refresh leaves no series behind).
   */
  samples(): LagSample[] {
    const open = new Set(this.#o.pairs().map((p) => `${p.group}\u0000${p.topic}`));
    return this.#samples.filter((s) => open.has(`${s.group}\u0000${s.topic}`));
  }

  /** Total lag over the current readings; undefined when nothing is known (no open subscription, or no answer). */
  total(): number | undefined {
    const samples = this.samples();
    return samples.length === 0 ? undefined : samples.reduce((n, s) => n + s.lag, 0);
  }
}
