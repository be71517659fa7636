import type { Config } from '../../core/config/schema.ts';
import { PluginError } from '../../core/errors.ts';
import { createDeps, type Deps, type ProcessScope } from './compose.ts';

interface Operation {
  /** Ends the call with the given reason (the pipeline's Call, or any AbortController). */
  abort: { abort(reason: PluginError): void };
  settled: Promise<unknown>;
}

/**
 * The running plugin: its current deps (replaced by Initialize), the data calls in flight (counted by Drain), and
 * the ordered, idempotent shutdown.
 */
export class Runtime {
  deps: Deps;
  readonly scope: ProcessScope;
  readonly #overrides: Partial<Deps>;
  readonly #inflight = new Set<Operation>();
  #draining: string | undefined;
  readonly #drained = new AbortController();
  #started = false;
  #stopping: Promise<void> | undefined;
  #unwatch: () => void = () => undefined;

  constructor(config: Config, scope: ProcessScope, overrides: Partial<Deps> = {}) {
    this.scope = scope;
    this.#overrides = overrides;
    this.deps = createDeps(config, scope, overrides);
    this.#watch();
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Aborts when a drain (or stop) begins, with the UNAVAILABLE that streams ended by it answer. */
  get drainSignal(): AbortSignal {
    return this.#drained.signal;
  }

  /** Replaces the deps with ones built from `config`, then closes the old clients (no leak on double Initialize). */
  async reconfigure(config: Config): Promise<void> {
    const old = this.deps;
    this.deps = createDeps(config, this.scope, this.#overrides);
    this.#watch();
    // A plugin reconfigured while draining stays not-ready: data calls are still refused.
    if (this.#draining !== undefined) this.deps.health.setDraining(this.#draining);
    if (this.#started) this.#startDeps();
    await old.close();
  }

  /** Begins background work (health probing); returns at once. Idempotent. */
  start(): void {
    this.#started = true;
    this.#startDeps();
  }

  #startDeps(): void {
    const { deps } = this;
    deps.health.start();
    // The first credential fetch may take a while (Vault); health says not ready until it is done.
    void deps.credentials.start().then(() => deps.health.probe());
  }

  /** Runs a data operation so that Drain can wait for it and abort it. */
  async track<T>(abort: Operation['abort'], run: () => Promise<T>): Promise<T> {
    const settled = run();
    const op: Operation = { abort, settled: settled.catch(() => undefined) };
    this.#inflight.add(op);
    try {
      return await settled;
    } finally {
      this.#inflight.delete(op);
    }
  }

  /**
   * Stops accepting data calls and waits up to `timeoutMs` for those in flight. Calls still running then are
   * aborted. Returns how many finished and how many were aborted.
   */
  async drain(timeoutMs: number, reason: string): Promise<{ drained: number; aborted: number }> {
    this.#draining = reason;
    if (!this.#drained.signal.aborted) this.#drained.abort(new PluginError('UNAVAILABLE', 'the plugin is draining; resume from the last cursor', { retryable: true }));
    this.deps.health.setDraining(reason);
    this.deps.sessions.keepMembership();
    const pending = [...this.#inflight];
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const done = new Set<Operation>();
    await Promise.race([Promise.all(pending.map((op) => op.settled.then(() => done.add(op)))), expired]);
    clearTimeout(timer);
    const stuck = pending.filter((op) => !done.has(op));
    // UNAVAILABLE, retryable: the caller should try again elsewhere; a publish may still have been written.
    for (const op of stuck) op.abort.abort(new PluginError('UNAVAILABLE', `the plugin stopped before this call finished (${reason}); retry`, { retryable: true }));
    return { drained: done.size, aborted: stuck.length };
  }

  /**
   * Ordered shutdown within `timeoutMs`: not serving → drain → close Kafka → flush the spans (at most 2 s). Drain
   * gets the timeout minus a reserve for closing the clients (a fifth, at most 1 s); clients still closing when the
   * timeout ends are left behind, since the caller (Stop, SIGTERM) ends the process next. Idempotent; later callers share the first one's promise.
   */
  stop(timeoutMs: number, reason: string): Promise<void> {
    this.#stopping ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      const { drained, aborted } = await this.drain(timeoutMs - Math.min(1_000, timeoutMs / 5), reason);
      // In-flight calls were awaited (or aborted) by drain; close() flushes the producer before the other clients.
      const closing = this.deps.close().then(() => true, (err: unknown) => {
        this.scope.log.error({ err }, 'closing the Kafka clients failed');
        return true;
      });
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
      const closed = await Promise.race([closing, expired]);
      clearTimeout(timer);
      if (!closed) this.scope.log.warn({ timeout_ms: timeoutMs }, 'the Kafka clients did not close within the stop timeout');
      // The drained calls' spans are exported now: what follows Stop may be a SIGKILL.
      await this.scope.tracing?.flush();
      this.scope.log.info({ drained, aborted, reason }, 'kafka plugin stopped');
    })();
    return this.#stopping;
  }

  #watch(): void {
    this.#unwatch();
    // The health gauge reads the report at scrape time (core/metrics/metrics.ts); here only the change is logged.
    this.#unwatch = this.deps.health.onChange((report) => {
      this.scope.log.info({ status: report.status, message: report.message }, 'health changed');
    });
  }
}
