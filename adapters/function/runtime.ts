import { ConfigError, loadConfig } from '../../core/config/load.ts';
import type { Config } from '../../core/config/schema.ts';
import { PluginError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../core/secrets/scrubber.ts';
import { createFunctionDeps, type FunctionDeps, type FunctionScope } from './compose.ts';
import { ConnectionCache, type CacheStats, type Lease } from './connection-cache.ts';
import { toFunctionError } from './errors.ts';
import { openCall, type CallScope } from '../../core/call/pipeline.ts';
import { invocationStart, type FunctionContext } from './invocation.ts';
import { operationNamed } from './operations.ts';
import { decodeRequest, encodeResponse } from './proto-json.ts';
import { functionProtos } from '../protos/files.ts';
import { protoRoot } from '../protos/root.ts';
import { pluginVersion } from '../../core/version.ts';
import { createTracing } from '../../core/tracing/otel.ts';
import { tracingSettings } from '../../core/tracing/settings.ts';
import type { TraceHeaders } from '../../core/tracing/traceparent.ts';

/** How a function runtime is configured; everything is optional (the bundle entry passes only `env`). */
export interface FunctionRuntimeOptions {
  /** Environment variables to read the configuration from (the bundle entry passes the process environment). */
  env?: Record<string, string | undefined>;
  /**
   * Loads the configuration instead of `env`, at every (re)build of the connections: return rotated credentials
   * here (from a secret store) and the next rebuild uses them.
   */
  config?: () => Config | Promise<Config>;
  /** Where JSON log lines go; stdout by default (synchronous for files and pipes on Linux, so nothing is lost on freeze). */
  logWrite?: (line: string) => void;
  /** Answer this long before the platform's timeout (default 500 ms, at most a fifth of the time left). */
  safetyMarginMs?: number;
  /** Test seam: drivers used instead of the real ones. */
  overrides?: Partial<FunctionDeps>;
}

/** How one invocation ended: the proto3 JSON answer, or the error (already mapped) — with the request id either way. */
export type Outcome =
  | { ok: true; operation: string; requestId: string; body: Record<string, unknown>; durationMs: number }
  | { ok: false; operation: string; requestId: string; error: PluginError; durationMs: number };

const service = 'prism-kafka-plugin';

/**
 * The function runtime: one per process, held at module scope by the entry. It owns the connection cache and
 * runs operations: proto3 JSON in, the same handlers as the gRPC adapter, proto3 JSON out.
 */
export class FunctionRuntime {
  readonly #options: FunctionRuntimeOptions;
  readonly #cache: ConnectionCache<FunctionDeps>;
  readonly #scrubber = new SecretScrubber();
  #scope: FunctionScope | undefined;
  #fallbackLog: Logger | undefined;
  #invocations = 0;
  /** Fires at close: one of every invocation's signals. */
  readonly #closing = new AbortController();
  /** The call pipeline's scope: the process's logger and metrics once built (the logger falls back before that). */
  readonly #calls: CallScope;

  constructor(options: FunctionRuntimeOptions = {}) {
    this.#options = options;
    this.#cache = new ConnectionCache(() => this.#build(), (deps) => this.#dispose(deps));
    // Read at each call: the logger and metrics exist once the first build configured them.
    this.#calls = Object.defineProperties({ toError: toFunctionError } as CallScope, {
      log: { get: () => this.log },
      metrics: { get: () => this.#scope?.metrics },
      tracing: { get: () => this.#scope?.tracing },
    });
  }

  /** Builds and disposals of the connection set so far (a rebuild is a new set of broker connections). */
  get cacheStats(): Readonly<CacheStats> {
    return this.#cache.stats;
  }

  /** The process's logger once configured (a fallback before that). */
  get log(): Logger {
    return this.#scope?.log ?? (this.#fallbackLog ??= createLogger({ level: 'info', service, version: pluginVersion, scrubber: this.#scrubber, ...this.#writer() }));
  }

  /**
   * Runs one operation with a proto3 JSON request. Never rejects: failures come back as an Outcome carrying a
   * PluginError, which each front end (direct, HTTP, Kafka events) presents its own way.
   */
  invoke(operation: unknown, request: unknown, context?: FunctionContext, requestId?: string, parent?: TraceHeaders): Promise<Outcome> {
    return this.run(() => ({ operation, request }), context, requestId, parent);
  }

  /**
   * As `invoke`, with the operation and request read from an event by `read` (its errors become the Outcome too).
   * `parent` is the caller's W3C trace context (an HTTP event's `traceparent` and `tracestate` headers).
   */
  async run(read: () => { operation: unknown; request: unknown }, context?: FunctionContext, requestId?: string, parent?: TraceHeaders): Promise<Outcome> {
    const cold = this.#invocations++ === 0;
    let op: ReturnType<typeof operationNamed> | undefined;
    let request: unknown;
    let unreadable: unknown;
    try {
      const event = read();
      request = event.request;
      op = operationNamed(event.operation);
    } catch (err) {
      unreadable = err;
    }
    const start = invocationStart(context, op?.name ?? 'unknown', { requestId, parent, safetyMarginMs: this.#options.safetyMarginMs, endOn: [this.#closing.signal] });
    const call = openCall(start, this.#calls);
    const id = call.ctx.requestId;
    let lease: Lease<FunctionDeps> | undefined;
    try {
      if (op === undefined) throw unreadable;
      lease = await this.#cache.acquire();
      const types = protoRoot(functionProtos);
      const input = decodeRequest(types.lookupType(op.request), request);
      const result = await op.run(lease.value, input, call.ctx);
      const body = encodeResponse(types.lookupType(op.response), result);
      return { ok: true, operation: call.operation, requestId: id, body, durationMs: call.end(undefined, { fields: { cold } }) };
    } catch (err) {
      const error = call.errorOf(err);
      // Refused credentials will not start working on these connections: the next invocation builds new ones,
      // with the configuration (and credentials) loaded again.
      if (error.code === 'UNAUTHENTICATED' && lease !== undefined) this.#cache.invalidate(lease.generation);
      return { ok: false, operation: call.operation, requestId: id, error, durationMs: call.end(error, { fields: { cold } }) };
    } finally {
      lease?.release();
      // A function is frozen once it answers: its spans go out now, not at a batch timer that may never fire.
      const tracing = this.#scope?.tracing;
      if (tracing !== undefined) await tracing.flush();
    }
  }

  /** Drops the cached connections: the next invocation builds new ones (after a credential rotation, say). */
  invalidate(): void {
    this.#cache.invalidate();
  }

  /**
   * Ends the invocations in flight (UNAVAILABLE, retryable: their signal fires) and closes every broker connection;
   * for the runtime's shutdown signal, never per invocation. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closing.signal.aborted) this.#closing.abort(new PluginError('UNAVAILABLE', 'the function runtime is shutting down; retry', { retryable: true }));
    await this.#cache.close();
    await this.#scope?.tracing?.shutdown();
  }

  async #build(): Promise<FunctionDeps> {
    const config = await (this.#options.config?.() ?? loadConfig({ env: this.#options.env ?? {} }));
    if (config.vault.enabled) {
      throw new ConfigError(['vault_enabled: Vault-managed credentials are not wired into the function runtime yet; pass credentials in the environment or through createFunctionRuntime({ config })']);
    }
    if (this.#scope === undefined) {
      const log = createLogger({ level: config.log.level, service, version: config.plugin.version, scrubber: this.#scrubber, ...this.#writer() });
      // Set up with the first connections, from the OTEL_* variables; the call that built them is traced too.
      const traced = tracingSettings(config.tracing);
      this.#scope = {
        log,
        metrics: createMetrics({ namespace: config.namespace, defaultMetrics: false }),
        scrubber: this.#scrubber,
        tracing: traced === undefined ? undefined : createTracing(traced, { version: pluginVersion, log }),
      };
    }
    const deps = createFunctionDeps(config, this.#scope, this.#options.overrides);
    this.#scope.log.info({ brokers: config.kafka.brokers, topic: config.kafka.topic, generation: this.#cache.stats.builds }, 'kafka function runtime configured');
    return deps;
  }

  async #dispose(deps: FunctionDeps): Promise<void> {
    try {
      await deps.close();
      deps.log.info('kafka connections closed');
    } catch (err) {
      deps.log.warn({ err }, 'closing the kafka connections failed');
    }
  }

  #writer(): { write?: (line: string) => void } {
    return this.#options.logWrite === undefined ? {} : { write: this.#options.logWrite };
  }
}
