import type { Logger } from '../logger.ts';
import type { CallTrace } from '../tracing/tracing.ts';

/** Per-call data handed to a handler: never long-lived collaborators, never transport types. */
export interface CallContext {
  /** Fires when the call must end: its deadline, the caller going away, or the runtime ending it (drain, stop). */
  signal: AbortSignal;
  /** Absolute deadline (ms since epoch), when the caller set one. */
  deadline?: number;
  log: Logger;
  requestId: string;
  /** The call's span when tracing is on (undefined otherwise): records written get its traceparent. */
  readonly trace?: CallTrace | undefined;
}
