import { PluginError } from '../../core/errors.ts';

/** A value borrowed from the cache for one invocation; `release` must be called exactly once. */
export interface Lease<T> {
  value: T;
  /** Which build this value came from (1 for the first); tells tests and logs whether a rebuild happened. */
  generation: number;
  release(): void;
}

interface Entry<T> {
  promise: Promise<T>;
  generation: number;
  users: number;
  /** Replaced by a newer entry: dispose once the last user released it. */
  retired: boolean;
}

/** How many times the cache built and disposed a value: what the benchmark and the tests look at. */
export interface CacheStats {
  builds: number;
  failedBuilds: number;
  disposals: number;
}

/**
 * Module-scope cache of one expensive value (the Kafka clients) for function runtimes: built lazily on first use as
 * a promise that concurrent first invocations share; reused by every warm invocation; forgotten when the build
 * rejects, so the next invocation builds again; replaced on `invalidate` (a credential rotation), the old value
 * disposed only when no invocation still uses it; never disposed per invocation. `close` (the runtime's shutdown
 * signal) disposes everything and refuses further use.
 */
export class ConnectionCache<T> {
  readonly #build: () => Promise<T>;
  readonly #dispose: (value: T) => Promise<void>;
  readonly #stats: CacheStats = { builds: 0, failedBuilds: 0, disposals: 0 };
  readonly #retired = new Set<Entry<T>>();
  #current: Entry<T> | undefined;
  #generation = 0;
  #closing: Promise<void> | undefined;

  constructor(build: () => Promise<T>, dispose: (value: T) => Promise<void>) {
    this.#build = build;
    this.#dispose = dispose;
  }

  get stats(): Readonly<CacheStats> {
    return { ...this.#stats };
  }

  /** Borrows the current value, building it first when there is none. Rejects with the build's error. */
  async acquire(): Promise<Lease<T>> {
    if (this.#closing !== undefined) throw new PluginError('UNAVAILABLE', 'the function runtime is shutting down', { retryable: true });
    const entry = (this.#current ??= this.#start());
    entry.users++;
    try {
      const value = await entry.promise;
      let released = false;
      return {
        value,
        generation: entry.generation,
        release: () => {
          if (released) return;
          released = true;
          this.#leave(entry);
        },
      };
    } catch (err) {
      this.#leave(entry);
      throw err;
    }
  }

  /**
   * Makes the next acquire build a new value (new credentials, new clients). Invocations holding the old one finish
   * with it; it is disposed after the last of them. `generation` limits this to the value a failed invocation used,
   * so a late failure does not discard a value that was already rebuilt.
   */
  invalidate(generation?: number): void {
    const entry = this.#current;
    if (entry === undefined || (generation !== undefined && entry.generation !== generation)) return;
    this.#current = undefined;
    this.#retire(entry);
  }

  /** Disposes every value (waiting for none of the invocations: the runtime is going away). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const all = [...this.#retired, ...(this.#current === undefined ? [] : [this.#current])];
      this.#current = undefined;
      this.#retired.clear();
      await Promise.all(all.map((e) => this.#disposeEntry(e)));
    })();
    return this.#closing;
  }

  #start(): Entry<T> {
    this.#stats.builds++;
    const entry: Entry<T> = { promise: this.#build(), generation: ++this.#generation, users: 0, retired: false };
    // A failed build is forgotten at once, so the next invocation (maybe after the cause is fixed) builds again.
    entry.promise.catch(() => {
      this.#stats.failedBuilds++;
      if (this.#current === entry) this.#current = undefined;
    });
    return entry;
  }

  #retire(entry: Entry<T>): void {
    entry.retired = true;
    this.#retired.add(entry);
    if (entry.users === 0) void this.#disposeEntry(entry);
  }

  #leave(entry: Entry<T>): void {
    entry.users--;
    if (entry.retired && entry.users === 0 && this.#retired.has(entry)) void this.#disposeEntry(entry);
  }

  async #disposeEntry(entry: Entry<T>): Promise<void> {
    this.#retired.delete(entry);
    const value = await entry.promise.catch(() => undefined);
    if (value === undefined) return;
    this.#stats.disposals++;
    // The dispose function reports its own failures; nothing is left to do with them here.
    await this.#dispose(value).catch(() => undefined);
  }
}
