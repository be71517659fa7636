import type { PluginError } from '../errors.ts';
import type { ConsumedRecord, RecordToProduce } from '../kafka/records.ts';
import type { TraceHeaders } from './traceparent.ts';

/**
 * What the call pipeline and the handlers see of tracing. Absent (undefined) when tracing is off, so a call then
 * builds no span object and writes no header: every use is `ctx.trace?.…`.
 */
export interface Tracing {
  /** The span of one call (kind SERVER), continuing the caller's trace when it sent one. */
  startCall(start: CallSpanStart): CallTrace;
  /** Exports the spans ended so far; resolves within `timeoutMs` whatever the receiver does. */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes, then stops the exporter. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** What a call's span is started from. */
export interface CallSpanStart {
  /** Our operation name (`publish`, `tail`…): the span's name when there is no RPC name. */
  operation: string;
  requestId: string;
  /** The RPC as the transport names it, `/package.Service/Method` (gRPC): the span's name and rpc.* attributes. */
  rpc?: string | undefined;
  /** The caller's trace context. */
  parent?: TraceHeaders | undefined;
  /** When the call started, ms since epoch (the span may be built later than that). */
  startTime: number;
}

/** The span of one call, with what its Kafka work adds to the trace. */
export interface CallTrace {
  /** The trace this call's span belongs to (logged as `trace_id`). */
  readonly traceId: string;
  /**
   * Records this call is about to write: each gets the call's `traceparent` (and `tracestate`) header unless it
   * carries a `traceparent` of its own; the span gets the messaging attributes of the write.
   */
  send(records: readonly RecordToProduce[]): void;
  /** The topic (and group) this call reads: the span's messaging attributes, and those of its deliveries. */
  reads(topic: string, group?: string): void;
  /**
   * A record delivered to the caller: a CONSUMER span in the trace of the record's `traceparent` header (the
   * publisher's), linked to the call's span; a child of the call's span when the record carries no valid context.
   * End it once the transport took the record.
   */
  receive(record: ConsumedRecord): { end(): void };
  /** Ends the span with the call's outcome (`status`: what the metrics label it). */
  end(error: PluginError | undefined, status: string): void;
}
