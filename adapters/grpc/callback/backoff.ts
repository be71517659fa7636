/**
 * Exponential reconnect delays: `initialMs`, doubling up to `maxMs`, each shortened by up to `jitter` (a fraction)
 * so that plugins restarted together do not dial the proxy in lockstep. `reset()` after a connection that worked.
 */
export class Backoff {
  #attempt = 0;
  readonly #o: { initialMs: number; maxMs: number; jitter: number; random: () => number };

  constructor(options: { initialMs: number; maxMs: number; jitter?: number; random?: () => number }) {
    this.#o = { jitter: 0.2, random: Math.random, ...options };
  }

  /** The delay before the next attempt. */
  next(): number {
    const base = Math.min(this.#o.maxMs, this.#o.initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(base * (1 - this.#o.jitter * this.#o.random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
