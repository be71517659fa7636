import { randomUUID } from 'node:crypto';
import type { CallStart } from '../../core/call/pipeline.ts';
import { parseTraceparent, type TraceHeaders } from '../../core/tracing/traceparent.ts';

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

/**
 * What a function invocation tells the call pipeline: the request id (the caller's, else the platform's, else a new
 * one), the caller's trace context and a deadline from `getRemainingTimeInMillis()` minus the safety margin (at most a fifth of the time left).
 */
export function invocationStart(
  context: FunctionContext | undefined,
  operation: string,
  options: { requestId?: string | undefined; parent?: TraceHeaders | undefined; safetyMarginMs?: number; endOn?: readonly AbortSignal[] },
): CallStart {
  const remaining = context?.getRemainingTimeInMillis?.();
  const margin = options.safetyMarginMs ?? defaultSafetyMarginMs;
  const deadline = typeof remaining === 'number' && Number.isFinite(remaining) ? Date.now() + remaining - Math.min(margin, Math.max(0, remaining) / 5) : undefined;
  return {
    operation,
    requestId: options.requestId ?? (context?.awsRequestId || randomUUID()),
    ...(options.parent === undefined ? {} : { traceId: parseTraceparent(options.parent.traceparent)?.traceId, parent: options.parent }),
    deadline,
    ...(options.endOn === undefined ? {} : { endOn: options.endOn }),
  };
}
