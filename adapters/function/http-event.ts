import { invalidArgument, PluginError } from '../../core/errors.ts';
import { traceparentHeader, tracestateHeader, type TraceHeaders } from '../../core/tracing/traceparent.ts';
import { errorBody } from './errors.ts';
import { findOperation } from './operations.ts';
import type { Outcome } from './runtime.ts';

/**
 * HTTP-style events: API Gateway REST (payload v1), HTTP API (payload v2) and Lambda function URLs (v2 format).
 * The operation is named by the path's last segment (`POST /publish`, `/v1/publish-batch`,
 * `/prism.interfaces.queue.QueueBasicInterface/PublishBatch`) with the request as the JSON body, or by a body of
 * the form `{ "operation": …, "request": … }` on any other path.
 */
export interface HttpEvent {
  /** v1 */
  httpMethod?: string;
  path?: string;
  /** v2 */
  version?: string;
  rawPath?: string;
  requestContext?: { requestId?: string; http?: { method?: string; path?: string } };
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** The answer API Gateway (v1 and v2) and function URLs take from a handler. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** Whether an event came through API Gateway or a function URL. */
export function isHttpEvent(event: unknown): event is HttpEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as HttpEvent;
  return typeof e.httpMethod === 'string' || (e.version === '2.0' && typeof e.requestContext?.http === 'object');
}

/** A header by name, whatever its case (v1 keeps the client's case, v2 lower-cases). */
function header(event: HttpEvent, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

/** The caller's request id, if it sent one we can use (same rule as the gRPC adapter's x-request-id). */
export function httpRequestId(event: HttpEvent): string | undefined {
  const id = header(event, 'x-request-id');
  return id !== undefined && id.length > 0 && id.length <= 128 ? id : undefined;
}

/** The caller's W3C trace context (`traceparent`, `tracestate` headers), when it sent one. */
export function httpTraceHeaders(event: HttpEvent): TraceHeaders | undefined {
  const traceparent = header(event, traceparentHeader);
  if (traceparent === undefined || traceparent.length > 128) return undefined;
  const tracestate = header(event, tracestateHeader);
  return { traceparent, ...(tracestate === undefined ? {} : { tracestate }) };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A base64 body's bytes as text; bytes that are not UTF-8 are refused, not replaced by U+FFFD. */
function utf8(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (err) {
    throw invalidArgument([{ field: 'body', expected: 'JSON text in UTF-8', got: `${bytes.length} bytes that are not UTF-8` }], err);
  }
}

/** Reads the operation name and the request from an HTTP event. */
export function readHttpEvent(event: HttpEvent): { operation: unknown; request: unknown } {
  const text = event.body === null || event.body === undefined || event.body === '' ? undefined
    : event.isBase64Encoded === true ? utf8(Buffer.from(event.body, 'base64')) : event.body;
  let body: unknown;
  if (text !== undefined) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw invalidArgument([{ field: 'body', expected: 'a JSON object', got: 'text that is not JSON' }], err);
    }
  }
  const path = event.rawPath ?? event.requestContext?.http?.path ?? event.path ?? '/';
  const segment = path.split('/').filter(Boolean).at(-1) ?? '';
  let last = segment;
  try {
    last = decodeURIComponent(segment);
  } catch {
    // A malformed escape names no operation; the segment is reported as sent.
  }
  if (last !== '' && findOperation(last) !== undefined) return { operation: last, request: body ?? {} };
  if (typeof body === 'object' && body !== null && 'operation' in body) {
    const envelope = body as { operation: unknown; request?: unknown };
    return { operation: envelope.operation, request: envelope.request ?? {} };
  }
  throw new PluginError('NOT_FOUND', last === ''
    ? 'no operation: name it in the path (POST /publish) or send {"operation": …, "request": …}'
    : `unknown operation ${JSON.stringify(last)} in the path ${path}`);
}

/** An outcome as an HTTP answer: 200 with the proto3 JSON body, or the error table's status with {code, message, request_id}. */
export function httpResponse(outcome: Outcome): HttpResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': outcome.requestId };
  if (outcome.ok) return { statusCode: 200, headers, body: JSON.stringify(outcome.body), isBase64Encoded: false };
  const { status, body } = errorBody(outcome.error, outcome.requestId);
  headers['x-prism-error-code'] = outcome.error.code;
  if (outcome.error.retryable) headers['x-prism-retryable'] = 'true';
  return { statusCode: status, headers, body: JSON.stringify(body), isBase64Encoded: false };
}
