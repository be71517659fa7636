import { randomUUID } from 'node:crypto';
import { isPluginError, PluginError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { TraceHeaders } from '../tracing/traceparent.ts';
import type { CallTrace, Tracing } from '../tracing/tracing.ts';
import type { CallContext } from './context.ts';
import { recordOutcome, toPluginError, type OutcomeMetrics } from './outcome.ts';

/** What an entry knows of a call when it arrives, read from its transport (gRPC metadata, a function's context). */
export interface CallStart {
  operation: string;
  /** The caller's request id; a new one when absent. */
  requestId?: string | undefined;
  /** The W3C trace id, logged with every line of the call. */
  traceId?: string | undefined;
  /** The caller's W3C trace context (`traceparent`, `tracestate`), which the call's span continues. */
  parent?: TraceHeaders | undefined;
  /** The RPC as the transport names it (gRPC: its path, `/package.Service/Method`): the span's name. */
  rpc?: string | undefined;
  /** Absolute deadline, ms since epoch. */
  deadline?: number | undefined;
  /** Signals of the runtime that end this call too (its drain, for calls with no natural end). */
  endOn?: readonly AbortSignal[];
  /** A server-streaming call (its duration goes to the stream histogram). */
  stream?: boolean;
}

/** Where every call records its outcome; shared by all calls of a process. */
export interface CallScope {
  log: Logger;
  metrics?: OutcomeMetrics | undefined;
  /** The metrics' status label of an outcome (gRPC status names in the gRPC adapter); the error code by default. */
  statusOf?: (error: PluginError | undefined) => string;
  /** Any thrown value → the PluginError the caller sees (core's toPluginError by default). */
  toError?: (thrown: unknown) => PluginError;
  /**
   * Tracing, when it is on: read when a call's span is first needed. Leave the key out when it is off for good; a
   * scope whose tracing comes later (the function runtime's getter) defines it from the start.
   */
  tracing?: Tracing | undefined;
}

/**
 * One call through the pipeline every entry shares: `openCall` builds the handler's context (request id, trace id,
 * deadline, one signal for deadline, caller and runtime, the call's span when tracing is on), `end` records the
 * outcome once (the span's status, request metrics, one log line) and releases the deadline timer. Entries keep only
 * their transport.
 */
export class Call {
  readonly operation: string;
  readonly ctx: CallContext;
  readonly #scope: CallScope;
  readonly #started = process.hrtime.bigint();
  readonly #own = new AbortController();
  readonly #stream: boolean;
  readonly #trace: (() => CallTrace | undefined) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(start: CallStart, scope: CallScope) {
    this.operation = start.operation;
    this.#scope = scope;
    this.#stream = start.stream === true;
    const requestId = start.requestId ?? randomUUID();
    const { deadline, traceId } = start;
    if (deadline !== undefined) {
      this.#timer = setTimeout(() => this.abort(new PluginError('DEADLINE_EXCEEDED', `${start.operation}: the call reached its deadline`)), Math.max(0, deadline - Date.now()));
      this.#timer.unref();
    }
    const ends = start.endOn ?? [];
    // AbortSignal.any holds its composite only weakly: Node 24 releases it after the call (measured, ADR 0007).
    const signal = ends.length === 0 ? this.#own.signal : AbortSignal.any([this.#own.signal, ...ends]);
    let child: Logger | undefined;
    // The span is built on first use too, with the call's start time, and only where the scope has tracing (a
    // function runtime's is set up by its first invocation, which is still traced): a scope without it builds
    // nothing at all, not even this closure.
    const trace = 'tracing' in scope ? this.#spanOnUse(start, requestId) : undefined;
    this.#trace = trace;
    this.ctx = {
      signal,
      requestId,
      // Built on first use: a pino child (with redaction) per call costs ~10 % of a publish's CPU, and most calls
      // never log (success lines are debug).
      get log(): Logger {
        if (child !== undefined) return child;
        const id = traceId ?? trace?.()?.traceId;
        return (child = scope.log.child({ operation: start.operation, request_id: requestId, ...(id === undefined ? {} : { trace_id: id }) }));
      },
      ...(deadline === undefined ? {} : { deadline }),
    };
    if (trace !== undefined) Object.defineProperty(this.ctx, 'trace', { get: trace, enumerable: true });
  }

  #spanOnUse(start: CallStart, requestId: string): () => CallTrace | undefined {
    const scope = this.#scope;
    const started = this.#started;
    let span: CallTrace | undefined;
    return () => {
      if (span !== undefined || scope.tracing === undefined) return span;
      const startTime = Date.now() - Number(process.hrtime.bigint() - started) / 1e6;
      return (span = scope.tracing.startCall({ operation: start.operation, requestId, rpc: start.rpc, parent: start.parent, startTime }));
    };
  }

  /** Whether the outcome was recorded (the answer is out): a cancellation after that changes nothing. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the call's signal with `reason` (the caller went away, Drain ran out of time); the first reason stays. */
  abort(reason: PluginError): void {
    this.#own.abort(reason);
  }

  /**
   * The error the caller sees for `thrown`: once the call's signal fired, its reason (a deadline is a deadline, even
   * if the work it cut short failed some other way); otherwise the thrown value, mapped through the error table.
   */
  errorOf(thrown: unknown): PluginError {
    const { signal } = this.ctx;
    if (signal.aborted && isPluginError(signal.reason)) return signal.reason;
    return (this.#scope.toError ?? toPluginError)(thrown);
  }

  /** Records how the call ended, once: its span, metrics by operation and status, one log line. Returns the duration in ms. */
  end(error?: PluginError, options: { status?: string; fields?: Record<string, unknown> } = {}): number {
    clearTimeout(this.#timer);
    if (this.#ended) return 0;
    this.#ended = true;
    const status = options.status ?? this.#scope.statusOf?.(error) ?? error?.code ?? 'OK';
    this.#trace?.()?.end(error, status);
    const debugEnabled = this.#scope.log.isLevelEnabled('debug');
    return recordOutcome(this.#scope.metrics, () => this.ctx.log, { operation: this.operation, status, started: this.#started, error, fields: options.fields, debugEnabled, stream: this.#stream });
  }
}

export const openCall = (start: CallStart, scope: CallScope): Call => new Call(start, scope);
