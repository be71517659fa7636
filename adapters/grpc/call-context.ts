import type { Metadata } from '@grpc/grpc-js';
import type { CallStart } from '../../core/call/pipeline.ts';

/** W3C traceparent: version-traceid-parentid-flags; we log the trace id. */
const traceparent = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

/** What a gRPC call tells the pipeline: the caller's `x-request-id`, the trace id of `traceparent`, the deadline. */
export function callStart(call: { metadata: Metadata; getDeadline(): Date | number }, operation: string, endOn?: readonly AbortSignal[]): CallStart {
  const raw = call.getDeadline();
  return {
    operation,
    requestId: first(call.metadata, 'x-request-id'),
    traceId: traceparent.exec(first(call.metadata, 'traceparent') ?? '')?.[1],
    deadline: raw instanceof Date ? raw.getTime() : Number.isFinite(raw) ? raw : undefined,
    ...(endOn === undefined ? {} : { endOn }),
  };
}
