import { PluginError } from '../errors.ts';
import type { ProducerPort } from './producer-port.ts';

/**
 * A producer that can be replaced without failing a send: after `rotate()`, new records go to a fresh producer
 * (which authenticates with the credentials current at that moment) while the old one finishes what it was given
 * and then closes. With `lazy`, the first producer is built only by the first send, so a process that never sends
 * through this one (dead letters: most never write any) opens no connection for it.
 */
export class RotatingProducer implements ProducerPort {
  readonly #make: () => ProducerPort;
  #current: ProducerPort | undefined;
  readonly #retiring = new Set<ProducerPort>();
  #closing: Promise<void> | undefined;

  constructor(make: () => ProducerPort, options: { lazy?: boolean } = {}) {
    this.#make = make;
    if (options.lazy !== true) this.#current = make();
  }

  produce(...args: Parameters<ProducerPort['produce']>): ReturnType<ProducerPort['produce']> {
    // Never build a producer once closing began: nothing would close it.
    if (this.#current === undefined && this.#closing !== undefined) return Promise.reject(new PluginError('UNAVAILABLE', 'the producer is closing'));
    this.#current ??= this.#make();
    return this.#current.produce(...args);
  }

  pending(): number {
    let n = this.#current?.pending() ?? 0;
    for (const p of this.#retiring) n += p.pending();
    return n;
  }

  /** Switches to a new producer; resolves when the old one has answered everything and closed. */
  async rotate(): Promise<void> {
    const old = this.#current;
    // Not built yet: the first send builds it with the credentials current then.
    if (old === undefined) return;
    this.#current = this.#make();
    this.#retiring.add(old);
    try {
      await old.close();
    } finally {
      this.#retiring.delete(old);
    }
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all([this.#current?.close(), ...[...this.#retiring].map((p) => p.close())]).then(() => undefined);
    return this.#closing;
  }
}
