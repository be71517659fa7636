import type { RecordHeaders } from '../kafka/records.ts';
import { traceparentHeader, tracestateHeader, type TraceHeaders } from './traceparent.ts';

/**
 * The header named `name`, compared without case: Kafka header names are case-sensitive, but a caller who wrote
 * `Traceparent` (as an HTTP client would) meant the W3C header, and it is theirs.
 */
function find(headers: RecordHeaders, name: string): Buffer | undefined {
  for (const [n, v] of headers) if (n.length === name.length && n.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Writes the trace context into a record's headers unless the record carries a `traceparent` of its own (a caller's
 * context is never overwritten, nor a second one added). `tracestate` goes with it only where the record has none.
 * Returns whether it wrote.
 */
export function stampHeaders(headers: RecordHeaders, context: TraceHeaders): boolean {
  if (find(headers, traceparentHeader) !== undefined) return false;
  headers.push([traceparentHeader, Buffer.from(context.traceparent)]);
  if (context.tracestate !== undefined && context.tracestate !== '' && find(headers, tracestateHeader) === undefined) {
    headers.push([tracestateHeader, Buffer.from(context.tracestate)]);
  }
  return true;
}

/** The trace context a record carries in its headers, if any (unparsed: the caller checks it). */
export function traceHeadersOf(headers: RecordHeaders): TraceHeaders | undefined {
  const parent = find(headers, traceparentHeader);
  if (parent === undefined || parent.length > 128) return undefined;
  const state = find(headers, tracestateHeader);
  return { traceparent: parent.toString('latin1'), ...(state === undefined ? {} : { tracestate: state.toString('latin1') }) };
}
