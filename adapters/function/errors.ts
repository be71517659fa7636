import { ConfigError } from '../../core/config/load.ts';
import { errorTable } from '../../core/error-table.ts';
import { callerMessage, toPluginError } from '../../core/call/outcome.ts';
import { PluginError, type ErrorCode } from '../../core/errors.ts';

/** Any thrown value → a PluginError; a configuration error says the function is misconfigured (core's rule otherwise). */
export function toFunctionError(error: unknown): PluginError {
  if (error instanceof ConfigError) return new PluginError('INTERNAL', `the function is misconfigured: ${error.message}`, { cause: error });
  return toPluginError(error);
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
