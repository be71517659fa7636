import { ConfigError } from '../../core/config/load.ts';
import { errorTable } from '../../core/error-table.ts';
import { isPluginError, PluginError, type ErrorCode } from '../../core/errors.ts';

/** Any thrown value → a PluginError; unknown errors become INTERNAL (message kept for the log, not the caller). */
export function toPluginError(error: unknown): PluginError {
  if (isPluginError(error)) return error;
  if (error instanceof ConfigError) return new PluginError('INTERNAL', `the function is misconfigured: ${error.message}`, { cause: error });
  return new PluginError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** What a caller may read of an error: the message when it may be shown, else a generic text with the request id. */
export function callerMessage(error: PluginError, requestId: string): string {
  return error.expose ? error.message : `internal error (request ${requestId})`;
}

/** The JSON error body of HTTP answers and of `npm run invoke`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  request_id: string;
}

/** An error as the caller sees it, with the HTTP status from the one error table. */
export function errorBody(error: PluginError, requestId: string): { status: number; body: ErrorBody } {
  return { status: errorTable[error.code].http, body: { code: error.code, message: callerMessage(error, requestId), request_id: requestId } };
}

/**
 * Thrown to the platform by a direct invocation. Lambda reports `name` as the invocation's `errorType`, so
 * callers (an SDK, Step Functions' Retry/Catch) can match on our stable code, e.g. UNAVAILABLE.
 */
export class FunctionError extends Error {
  readonly code: ErrorCode;
  readonly request_id: string;
  readonly retryable: boolean;

  constructor(error: PluginError, requestId: string) {
    super(callerMessage(error, requestId));
    this.name = error.code;
    this.code = error.code;
    this.request_id = requestId;
    this.retryable = error.retryable;
  }
}
