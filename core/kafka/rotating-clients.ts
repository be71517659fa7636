import type { Fetcher, ReaderPort } from './reader-port.ts';
import type { KafkaPort } from './port.ts';

/**
 * Generations of one client: calls go to the newest; after `rotate()` the previous one is closed once nothing it
 * started is still running (an in-flight request, an open fetcher), so a credential rotation fails no call. New
 * clients open new connections, which read the credentials (SASL user, client certificate) current at that moment.
 */
class Generations<T extends { close(): Promise<void> }> {
  readonly #make: () => T;
  #current: { client: T; busy: number; retired: boolean; closed?: Promise<void> } | undefined;
  readonly #retiring = new Set<{ client: T; busy: number; retired: boolean; closed?: Promise<void> }>();
  #closing: Promise<void> | undefined;

  constructor(make: () => T) {
    this.#make = make;
  }

  /** The newest generation, held until `release` (built on first use). */
  hold(): { client: T; release: () => void } {
    const g = this.#current ??= { client: this.#make(), busy: 0, retired: false };
    g.busy++;
    let released = false;
    return {
      client: g.client,
      release: () => {
        if (released) return;
        released = true;
        g.busy--;
        if (g.retired && g.busy === 0) void this.#retire(g);
      },
    };
  }

  async use<R>(run: (client: T) => Promise<R>): Promise<R> {
    const h = this.hold();
    try {
      return await run(h.client);
    } finally {
      h.release();
    }
  }

  /** New calls go to a new client; the old one closes when its last call or fetcher is done. */
  rotate(): void {
    const old = this.#current;
    if (old === undefined || this.#closing !== undefined) return;
    this.#current = undefined;
    old.retired = true;
    this.#retiring.add(old);
    if (old.busy === 0) void this.#retire(old);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const all = [...this.#retiring, ...(this.#current === undefined ? [] : [this.#current])];
      await Promise.all(all.map((g) => g.closed ?? g.client.close()));
    })();
    return this.#closing;
  }

  #retire(g: { client: T; closed?: Promise<void> }): Promise<void> {
    g.closed ??= g.client.close().catch(() => undefined).finally(() => this.#retiring.delete(g as never));
    return g.closed;
  }
}

/** The health/admin port, replaceable by a credential rotation (`rotate`). */
export class RotatingCluster implements KafkaPort {
  readonly #g: Generations<KafkaPort>;

  constructor(make: () => KafkaPort) {
    this.#g = new Generations(make);
  }

  ping(...args: Parameters<KafkaPort['ping']>): ReturnType<KafkaPort['ping']> {
    return this.#g.use((c) => c.ping(...args));
  }

  rotate(): void {
    this.#g.rotate();
  }

  close(): Promise<void> {
    return this.#g.close();
  }
}

/**
 * The reader (offsets, topic admin, Tail and Read fetchers), replaceable by a credential rotation: new calls and new
 * fetchers use a new reader; a fetcher opened before keeps its connection (a TLS session outlives the certificate it
 * was opened with) and the old reader closes when the last such fetcher does.
 */
export class RotatingReader implements ReaderPort {
  readonly #g: Generations<ReaderPort>;

  constructor(make: () => ReaderPort) {
    this.#g = new Generations(make);
  }

  partitionCount(...args: Parameters<ReaderPort['partitionCount']>): ReturnType<ReaderPort['partitionCount']> {
    return this.#g.use((r) => r.partitionCount(...args));
  }

  offsets(...args: Parameters<ReaderPort['offsets']>): ReturnType<ReaderPort['offsets']> {
    return this.#g.use((r) => r.offsets(...args));
  }

  createTopic(...args: Parameters<ReaderPort['createTopic']>): ReturnType<ReaderPort['createTopic']> {
    return this.#g.use((r) => r.createTopic(...args));
  }

  describeTopic(...args: Parameters<ReaderPort['describeTopic']>): ReturnType<ReaderPort['describeTopic']> {
    return this.#g.use((r) => r.describeTopic(...args));
  }

  openFetcher(topic: string): Fetcher {
    const h = this.#g.hold();
    let fetcher: Fetcher;
    try {
      fetcher = h.client.openFetcher(topic);
    } catch (err) {
      h.release();
      throw err;
    }
    const wrapped: Fetcher = {
      fetch: (...args) => fetcher.fetch(...args),
      close: async () => {
        try {
          await fetcher.close();
        } finally {
          h.release();
        }
      },
    };
    return wrapped;
  }

  rotate(): void {
    this.#g.rotate();
  }

  close(): Promise<void> {
    return this.#g.close();
  }
}
