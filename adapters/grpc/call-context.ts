import { randomUUID } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from '../../core/logger.ts';
import type { CallContext } from '../../handlers/shared/define.ts';
import { PluginError } from '../../core/errors.ts';

/** W3C traceparent: version-traceid-parentid-flags; we log the trace id. */
const traceparent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

/**
 * Builds a handler's per-call context from a gRPC call: request id (caller's `x-request-id` or a new one), trace id,
 * deadline, and an AbortSignal that fires when the caller cancels or the deadline passes.
 */
export function callContext(
  call: { metadata: Metadata; getDeadline(): Date | number; on(event: 'cancelled', listener: () => void): unknown },
  log: Logger,
  operation: string,
): { ctx: CallContext; abort: AbortController; dispose: () => void } {
  const abort = new AbortController();
  const requestId = first(call.metadata, 'x-request-id') ?? randomUUID();
  const traceId = traceparent.exec(first(call.metadata, 'traceparent') ?? '')?.[1];
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw.getTime() : Number.isFinite(raw) ? raw : undefined;
  call.on('cancelled', () => abort.abort(new Error('cancelled by the caller')));
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(() => abort.abort(new PluginError('DEADLINE_EXCEEDED', 'the call reached its deadline')), Math.max(0, deadline - Date.now()));
    timer.unref();
  }
  let child: Logger | undefined;
  const ctx = {
    signal: abort.signal,
    requestId,
    // Built on first use: a pino child (with redaction) per call costs ~10 % of the CPU of a publish, and most calls
    // never log (success lines are debug).
    get log(): Logger {
      return (child ??= log.child({ operation, request_id: requestId, ...(traceId === undefined ? {} : { trace_id: traceId }) }));
    },
    ...(deadline === undefined ? {} : { deadline }),
  } satisfies CallContext;
  return { ctx, abort, dispose: () => clearTimeout(timer) };
}
