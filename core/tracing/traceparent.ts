/**
 * The W3C Trace Context headers (https://www.w3.org/TR/trace-context/): `traceparent` is
 * `version-traceid-parentid-flags` in lower-case hex. Parsed here without the OpenTelemetry library, so the call
 * pipeline reads a caller's trace id (for its log lines) whether tracing is on or not.
 */

export const traceparentHeader = 'traceparent';
export const tracestateHeader = 'tracestate';

/** What a `traceparent` names: a span of a trace, and whether the caller sampled it. */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the caller's span. */
  spanId: string;
  /** Trace flags (bit 0: sampled). */
  flags: number;
}

/** The caller's trace context as received (header values, unparsed). */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string | undefined;
}

const hex = /^[0-9a-f]+$/;
const allZero = /^0+$/;

/**
 * Parses a `traceparent` value; undefined when it is not a valid one. Version 00 must be exactly 55 characters; a
 * later version may carry more fields after a `-` (the spec's forward compatibility); version ff is invalid.
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined || value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!hex.test(version) || version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!hex.test(traceId) || !hex.test(spanId) || !hex.test(flags) || allZero.test(traceId) || allZero.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** Formats a span as a version-00 `traceparent`. */
export function formatTraceparent(p: TraceParent): string {
  return `00-${p.traceId}-${p.spanId}-${(p.flags & 0xff).toString(16).padStart(2, '0')}`;
}
