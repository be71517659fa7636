import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import type { PluginError } from '../errors.ts';
import type { ConsumedRecord, RecordToProduce } from '../kafka/records.ts';
import { stampHeaders, traceHeadersOf } from './record-headers.ts';
import { formatTraceparent, parseTraceparent, type TraceHeaders } from './traceparent.ts';
import type { CallSpanStart, CallTrace } from './tracing.ts';

/** A caller's (or a record's) trace context as OpenTelemetry's remote span context; undefined when invalid. */
export function remoteContext(headers: TraceHeaders | undefined): SpanContext | undefined {
  const parent = parseTraceparent(headers?.traceparent);
  if (parent === undefined) return undefined;
  const state = headers?.tracestate;
  return {
    traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true,
    ...(state === undefined || state === '' ? {} : { traceState: new TraceState(state) }),
  };
}

/** `/package.Service/Method` → the span's name (`package.Service/Method`) and the rpc.* attributes of the RPC conventions. */
function rpcName(path: string): { name: string; attributes: Attributes } {
  const name = path.replace(/^\//, '');
  const slash = name.lastIndexOf('/');
  return { name, attributes: { 'rpc.system': 'grpc', 'rpc.service': name.slice(0, slash), 'rpc.method': name.slice(slash + 1) } };
}

/**
 * One call's SERVER span: continues the caller's `traceparent`, names the RPC, and carries what the call's Kafka
 * work adds (messaging.* attributes, the `traceparent` written into records, a CONSUMER span per delivery).
 */
export class OtelCallTrace implements CallTrace {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #operation: string;
  #context: Context | undefined;
  #headers: TraceHeaders | undefined;
  #reading: Attributes = {};

  constructor(tracer: Tracer, start: CallSpanStart) {
    this.#tracer = tracer;
    this.#operation = start.operation;
    const parent = remoteContext(start.parent);
    const rpc = start.rpc === undefined ? undefined : rpcName(start.rpc);
    const attributes: Attributes = { 'prism.operation': start.operation, 'prism.request_id': start.requestId, ...rpc?.attributes };
    this.#span = tracer.startSpan(rpc?.name ?? start.operation, { kind: SpanKind.SERVER, attributes, startTime: start.startTime }, parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent));
  }

  get traceId(): string {
    return this.#span.spanContext().traceId;
  }

  send(records: readonly RecordToProduce[]): void {
    const headers = (this.#headers ??= this.#ownHeaders());
    let topic: string | undefined;
    let topics = 0;
    for (const r of records) {
      stampHeaders(r.headers, headers);
      if (r.topic !== topic) topics++;
      topic = r.topic;
    }
    this.#span.setAttributes({
      'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.operation.name': this.#operation,
      ...(topics === 1 && topic !== undefined ? { 'messaging.destination.name': topic } : {}),
      ...(records.length === 1 ? {} : { 'messaging.batch.message_count': records.length }),
    });
  }

  reads(topic: string, group?: string): void {
    this.#reading = { 'messaging.system': 'kafka', 'messaging.destination.name': topic, ...(group === undefined ? {} : { 'messaging.consumer.group.name': group }) };
    this.#span.setAttributes({ ...this.#reading, 'messaging.operation.type': 'receive', 'messaging.operation.name': this.#operation });
  }

  receive(record: ConsumedRecord): { end(): void } {
    const origin = remoteContext(traceHeadersOf(record.headers));
    const call = (this.#context ??= trace.setSpan(ROOT_CONTEXT, this.#span));
    // A record that carries a trace context is delivered inside that trace (the publish span and this one share
    // it), linked back to the call that delivered it; a record without one is a child of the call's span.
    return this.#tracer.startSpan(`${this.#operation} ${record.topic}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...this.#reading, 'messaging.system': 'kafka', 'messaging.operation.type': 'receive', 'messaging.operation.name': this.#operation,
        'messaging.destination.name': record.topic, 'messaging.destination.partition.id': String(record.partition), 'messaging.kafka.offset': Number(record.offset),
      },
      links: origin === undefined ? [] : [{ context: this.#span.spanContext() }],
    }, origin === undefined ? call : trace.setSpanContext(ROOT_CONTEXT, origin));
  }

  end(error: PluginError | undefined, status: string): void {
    this.#span.setAttribute('rpc.response.status_code', status);
    if (error !== undefined) {
      this.#span.setAttribute('error.type', error.code);
      // Internal details stay in the log, as they do for the caller.
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error.expose ? error.message : error.code });
    }
    this.#span.end();
  }

  /** The context records written by this call carry: this span's, the caller's tracestate passed on. */
  #ownHeaders(): TraceHeaders {
    const c = this.#span.spanContext();
    const state = c.traceState?.serialize();
    return { traceparent: formatTraceparent({ traceId: c.traceId, spanId: c.spanId, flags: c.traceFlags }), ...(state === undefined || state === '' ? {} : { tracestate: state }) };
  }
}
