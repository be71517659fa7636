import type { ProducerPort } from './producer-port.ts';

/**
 * A producer that can be replaced without failing a send: after `rotate()`, new records go to a fresh producer
 * (which authenticates with the credentials current at that moment) while the old one finishes what it was given
 * and then closes.
 */
export class RotatingProducer implements ProducerPort {
  readonly #make: () => ProducerPort;
  #current: ProducerPort;
  readonly #retiring = new Set<ProducerPort>();

  constructor(make: () => ProducerPort) {
    this.#make = make;
    this.#current = make();
  }

  produce(...args: Parameters<ProducerPort['produce']>): ReturnType<ProducerPort['produce']> {
    return this.#current.produce(...args);
  }

  pending(): number {
    let n = this.#current.pending();
    for (const p of this.#retiring) n += p.pending();
    return n;
  }

  /** Switches to a new producer; resolves when the old one has answered everything and closed. */
  async rotate(): Promise<void> {
    const old = this.#current;
    this.#current = this.#make();
    this.#retiring.add(old);
    try {
      await old.close();
    } finally {
      this.#retiring.delete(old);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#current.close(), ...[...this.#retiring].map((p) => p.close())]);
  }
}
