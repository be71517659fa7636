import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import type { CallContext } from '../../handlers/shared/define.ts';
import { PluginError } from '../../core/errors.ts';

/** What the platform tells us about one invocation: AWS Lambda's context object, or any stand-in with these members. */
export interface FunctionContext {
  awsRequestId?: string;
  functionName?: string;
  /** Milliseconds until the platform kills the invocation. */
  getRemainingTimeInMillis?: () => number;
}

/**
 * Answer this long before the platform's own timeout, so the caller gets our status instead of a killed
 * invocation: room for writing the response, leaving a consumer group and the runtime's own bookkeeping.
 */
export const defaultSafetyMarginMs = 500;

/** One invocation's handler context and the means to end it. */
export interface Invocation {
  ctx: CallContext;
  abort: AbortController;
  /** Clears the deadline timer: a frozen function must not wake up to a stale timer. */
  dispose(): void;
}

/**
 * Builds a handler's per-call context from a function invocation: request id (the caller's, else the platform's,
 * else a new one), a deadline from `getRemainingTimeInMillis()` minus the safety margin (at most a fifth of the
 * time left), and an AbortSignal that fires at that deadline.
 */
export function invocationContext(
  context: FunctionContext | undefined,
  log: Logger,
  operation: string,
  options: { requestId?: string | undefined; safetyMarginMs: number },
): Invocation {
  const abort = new AbortController();
  const requestId = options.requestId ?? (context?.awsRequestId || randomUUID());
  const remaining = context?.getRemainingTimeInMillis?.();
  let deadline: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (typeof remaining === 'number' && Number.isFinite(remaining)) {
    deadline = Date.now() + remaining - Math.min(options.safetyMarginMs, Math.max(0, remaining) / 5);
    timer = setTimeout(() => abort.abort(new PluginError('DEADLINE_EXCEEDED', 'the call reached its deadline')), Math.max(0, deadline - Date.now()));
    timer.unref();
  }
  const ctx: CallContext = {
    signal: abort.signal,
    requestId,
    log: log.child({ operation, request_id: requestId }),
    ...(deadline === undefined ? {} : { deadline }),
  };
  return { ctx, abort, dispose: () => clearTimeout(timer) };
}
