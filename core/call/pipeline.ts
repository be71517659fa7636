import { randomUUID } from 'node:crypto';
import { isPluginError, PluginError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CallContext } from './context.ts';
import { recordOutcome, toPluginError, type OutcomeMetrics } from './outcome.ts';

/** What an entry knows of a call when it arrives, read from its transport (gRPC metadata, a function's context). */
export interface CallStart {
  operation: string;
  /** The caller's request id; a new one when absent. */
  requestId?: string | undefined;
  /** The W3C trace id, logged with every line of the call. */
  traceId?: string | undefined;
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
}

/**
 * One call through the pipeline every entry shares: `openCall` builds the handler's context (request id, trace id,
 * deadline, one signal for deadline, caller and runtime), `end` records the outcome once (request metrics, one log
 * line) and releases the deadline timer. Entries keep only their transport.
 */
export class Call {
  readonly operation: string;
  readonly ctx: CallContext;
  readonly #scope: CallScope;
  readonly #started = process.hrtime.bigint();
  readonly #own = new AbortController();
  readonly #stream: boolean;
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
    this.ctx = {
      signal,
      requestId,
      // Built on first use: a pino child (with redaction) per call costs ~10 % of a publish's CPU, and most calls
      // never log (success lines are debug).
      get log(): Logger {
        return (child ??= scope.log.child({ operation: start.operation, request_id: requestId, ...(traceId === undefined ? {} : { trace_id: traceId }) }));
      },
      ...(deadline === undefined ? {} : { deadline }),
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

  /** Records how the call ended, once: metrics by operation and status, one log line. Returns the duration in ms. */
  end(error?: PluginError, options: { status?: string; fields?: Record<string, unknown> } = {}): number {
    clearTimeout(this.#timer);
    if (this.#ended) return 0;
    this.#ended = true;
    const status = options.status ?? this.#scope.statusOf?.(error) ?? error?.code ?? 'OK';
    const debugEnabled = this.#scope.log.isLevelEnabled('debug');
    return recordOutcome(this.#scope.metrics, () => this.ctx.log, { operation: this.operation, status, started: this.#started, error, fields: options.fields, debugEnabled, stream: this.#stream });
  }
}

export const openCall = (start: CallStart, scope: CallScope): Call => new Call(start, scope);
