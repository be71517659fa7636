/** What a redelivery needs of a delivered message: whether it waits for one, and its backoff timer. */
export interface Redeliverable {
  /** Nacked with requeue and not delivered again yet: its backoff timer runs, or it waits in the ready queue. */
  requeued: boolean;
  /** The backoff timer of a requeued entry, until it fires. */
  timer?: NodeJS.Timeout | undefined;
}

/**
 * The messages a session delivers again: each waits out its backoff, then joins the ready queue, which the session
 * drains before it fetches anything new. A redelivery can be taken back (dead-lettered while it waits).
 */
export class Redeliveries<T extends Redeliverable> {
  readonly #ready: T[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onReady: () => void;

  /** `ready` is told each time a message joins the ready queue. */
  constructor(ready: () => void) {
    this.#onReady = ready;
  }

  /** Delivers `entry` again after `delayMs`. */
  schedule(entry: T, delayMs: number): void {
    entry.requeued = true;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      entry.timer = undefined;
      this.#ready.push(entry);
      this.#onReady();
    }, delayMs);
    entry.timer = timer;
    this.#timers.add(timer);
  }

  /** Takes back a pending redelivery: stops the backoff timer, or takes the entry out of the ready queue. */
  cancel(entry: T): void {
    entry.requeued = false;
    if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      this.#timers.delete(entry.timer);
      entry.timer = undefined;
    }
    const waiting = this.#ready.indexOf(entry);
    if (waiting >= 0) this.#ready.splice(waiting, 1);
  }

  /** The next message ready to be delivered again, if any. */
  next(): T | undefined {
    return this.#ready.shift();
  }

  /** Stops every backoff timer (the session closes). */
  clear(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
