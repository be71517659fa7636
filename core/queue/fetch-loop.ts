import { PluginError, isPluginError } from '../errors.ts';
import type { GroupSubscription } from '../kafka/group-port.ts';
import type { Wakeup } from '../wakeup.ts';
import type { Positions } from './positions.ts';

/** How long a fetch may wait at the broker when no owned partition has data. */
const fetchWaitMs = 500;

export interface FetchLoopOptions {
  topic: string;
  /** Fetch size per partition. */
  fetchBytes: number;
  /** Records fetched ahead of delivery, at most. */
  prefetch: number;
  signal: AbortSignal;
  fetchFailed?(error: unknown): void;
}

/**
 * Refills a session's positions: one fetch in flight at a time, its answer applied once (stale parts discarded by
 * Positions). A wake-up (ack, assignment, requeue, close) ends the caller's wait but not the fetch, whose answer
 * serves the next call. Transient failures are retried after a pause; others end the session (`failure`).
 */
export class FetchLoop {
  readonly #sub: GroupSubscription;
  readonly #positions: Positions;
  readonly #wake: Wakeup;
  readonly #o: FetchLoopOptions;
  #fetching: Promise<void> | undefined;
  failure: PluginError | undefined;

  constructor(sub: GroupSubscription, positions: Positions, wake: Wakeup, options: FetchLoopOptions) {
    this.#sub = sub;
    this.#positions = positions;
    this.#wake = wake;
    this.#o = options;
  }

  /** Waits for records (or a wake-up, or a quiet interval). */
  async refill(): Promise<void> {
    if (this.#fetching === undefined) {
      const asked = this.#positions.toFetch(this.#o.prefetch);
      if (asked.size === 0) {
        await this.#wake.wait(1_000);
        return;
      }
      const positions = new Map([...asked].map(([p, a]) => [p, String(a.position)]));
      this.#fetching = this.#sub.fetch(positions, { maxWaitMs: fetchWaitMs, maxBytesPerPartition: this.#o.fetchBytes, signal: this.#o.signal })
        .then((answer) => this.#positions.apply(answer, asked), (err: unknown) => this.#failed(err))
        .finally(() => (this.#fetching = undefined));
    }
    await Promise.race([this.#fetching, this.#wake.wait(fetchWaitMs * 2)]);
  }

  async #failed(err: unknown): Promise<void> {
    if (this.#o.signal.aborted) return;
    const transient = isPluginError(err) && (err.code === 'UNAVAILABLE' || err.code === 'CANCELLED' || err.code === 'DEADLINE_EXCEEDED');
    this.#o.fetchFailed?.(err);
    if (!transient) this.failure = isPluginError(err) ? err : new PluginError('INTERNAL', `fetching ${this.#o.topic} failed`, { cause: err });
    else await new Promise((resolve) => setTimeout(resolve, fetchWaitMs));
  }
}
