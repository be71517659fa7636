import type { GroupPort, PartitionOffsets } from '../kafka/group-port.ts';
import type { GroupTopic } from './subscriptions.ts';
import type { Logger } from '../logger.ts';
import type { LagSample } from '../metrics/queue.ts';

export interface LagMonitorOptions {
  /** The same offsets GetOffsets reports (and `kafka-consumer-groups --describe` shows). */
  groups: Pick<GroupPort, 'offsets'>;
  /** The (group, topic) pairs to report, in the order they are read (open queue subscriptions first). */
  pairs: () => GroupTopic[];
  /** Whether a pair's reading is reported (default: every one); see WatchedGroups.keep. */
  keep?: (pair: GroupTopic, partitions: PartitionOffsets[]) => boolean;
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

const keyOf = (p: GroupTopic) => `${p.group}\u0000${p.topic}`;

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
 * Reads the consumer lag of the watched groups (see WatchedGroups) every `intervalMs` and keeps the last readings
 * for the `prism_consumer_lag` gauge and the health details. A scrape never waits for Kafka. A pair whose read fails
 * has no samples (absent, not stale), and a pair is read again only after its previous read ended, so a hung broker
 * never piles up requests.
 */
export class LagMonitor {
  readonly #o: LagMonitorOptions;
  /** The last readings per (group, topic) pair. */
  readonly #samples = new Map<string, LagSample[]>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The round being read, until its results are in (at most `timeoutMs`). */
  #round: Promise<void> | undefined;
  /** Pairs whose read has not ended, across rounds (a read outliving its round's timeout is not started again). */
  readonly #inFlight = new Set<string>();

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

  /**
   * Reads the lag now; resolves when the readings are updated (at most `timeoutMs` later). A call during a round
   * joins it. A pair whose read from an earlier round still hangs (a topic that does not exist yet, a stuck broker) is
   * not read again until that read ends, and has no samples meanwhile; it never holds back the other pairs.
   */
  refresh(): Promise<void> {
    if (this.#round !== undefined) return this.#round;
    const listed = this.#o.pairs().slice(0, this.#o.maxPairs);
    const keys = new Set(listed.map(keyOf));
    for (const key of this.#samples.keys()) if (!keys.has(key)) this.#samples.delete(key);
    const pairs = listed.filter((p) => !this.#inFlight.has(keyOf(p)));
    // Each pair's readings replace its own as soon as they are in: a slow pair delays nobody else's.
    const round = Promise.all(pairs.map(async (pair) => {
      const key = keyOf(pair);
      this.#inFlight.add(key);
      const read = this.#o.groups.offsets(pair.group, pair.topic);
      void read.then(() => this.#inFlight.delete(key), () => this.#inFlight.delete(key));
      const partitions = await within(read, this.#o.timeoutMs);
      if (partitions === undefined) this.#o.log?.debug({ group: pair.group, topic: pair.topic }, 'consumer lag unknown: offsets did not answer');
      if (partitions === undefined || this.#o.keep?.(pair, partitions) === false) this.#samples.delete(key);
      else this.#samples.set(key, partitions.map((p) => ({ group: pair.group, topic: pair.topic, partition: p.partition, lag: lagOf(p) })));
    })).then(() => {
      this.#round = undefined;
    });
    this.#round = round;
    return round;
  }

  /**
   * The last readings, one per partition of each (group, topic) pair that answered, limited to the pairs still
   * listed (a pair dropped since the last refresh leaves no series behind).
   */
  samples(): LagSample[] {
    return this.#o.pairs().flatMap((p) => this.#samples.get(keyOf(p)) ?? []);
  }

  /** Total lag over the current readings; undefined when nothing is known (no watched pair, or no answer). */
  total(): number | undefined {
    const samples = this.samples();
    return samples.length === 0 ? undefined : samples.reduce((n, s) => n + s.lag, 0);
  }
}
