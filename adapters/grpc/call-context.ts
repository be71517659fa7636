import type { Metadata } from '@grpc/grpc-js';
import type { CallStart } from '../../core/call/pipeline.ts';
import { parseTraceparent, traceparentHeader, tracestateHeader } from '../../core/tracing/traceparent.ts';

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

/**
 * What a gRPC call tells the pipeline: the caller's `x-request-id`, its W3C trace context (`traceparent`, whose trace
 * id is logged, and `tracestate`), the method's path (the span's name) and the deadline.
 */
export function callStart(call: { metadata: Metadata; getDeadline(): Date | number; getPath(): string }, operation: string, endOn?: readonly AbortSignal[]): CallStart {
  const raw = call.getDeadline();
  const traceparent = first(call.metadata, traceparentHeader);
  const parsed = parseTraceparent(traceparent);
  // tracestate means nothing without a valid traceparent (W3C): it is read only then. Up to 512 characters (W3C).
  const tracestate = parsed === undefined ? undefined : call.metadata.get(tracestateHeader).filter((v) => typeof v === 'string' && v.length <= 512).join(',');
  return {
    operation,
    requestId: first(call.metadata, 'x-request-id'),
    traceId: parsed?.traceId,
    ...(parsed === undefined ? {} : { parent: { traceparent: traceparent!, ...(tracestate === '' || tracestate === undefined ? {} : { tracestate }) } }),
    rpc: call.getPath(),
    deadline: raw instanceof Date ? raw.getTime() : Number.isFinite(raw) ? raw : undefined,
    ...(endOn === undefined ? {} : { endOn }),
  };
}
