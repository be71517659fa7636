import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openCall, type CallScope } from '../../../../core/call/pipeline.ts';
import { PluginError } from '../../../../core/errors.ts';
import { createTracing } from '../../../../core/tracing/otel.ts';
import { parseTraceparent } from '../../../../core/tracing/traceparent.ts';
import { defaultServiceName } from '../../../../core/tracing/settings.ts';
import { publish } from '../../../../handlers/publish.ts';
import { tail } from '../../../../handlers/tail.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog, FakeReader } from '../../../support/fake-reader.ts';
import { take, testMetrics } from '../../../support/streams.ts';

const caller = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=caller' };
const settings = { url: 'http://unused', serviceName: defaultServiceName, resource: { 'deployment.environment.name': 'unit' }, sampler: 'parentbased_always_on' as const, ratio: 1, batch: {} };

function traced() {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing(settings, { version: '9.9.9', exporter, processor: new SimpleSpanProcessor({ exporter }) });
  const scope: CallScope = { log: pino({ level: 'silent' }), tracing };
  const spans = () => exporter.getFinishedSpans();
  return { scope, spans, tracing };
}

function kafka() {
  const log = new FakeLog();
  log.createTopic('orders', 1);
  const producer = new FakeProducer(log);
  return { log, producer, deps: { producer, metrics: testMetrics(), limits: { maxMessageBytes: 1_000 } } };
}

const header = (headers: [string, Buffer][], name: string) => headers.filter(([n]) => n === name).map(([, v]) => v.toString());

describe('tracing through the call pipeline (OpenTelemetry SDK, in-memory exporter)', () => {
  it('ends one SERVER span per call, continuing the caller\'s trace, named by the RPC, with the service resource', () => {
    const t = traced();
    openCall({ operation: 'publish', requestId: 'r-1', parent: caller, rpc: '/prism.interfaces.queue.QueueBasicInterface/Publish' }, t.scope).end();
    const [span] = t.spans();
    expect(span).toMatchObject({ name: 'prism.interfaces.queue.QueueBasicInterface/Publish', kind: SpanKind.SERVER });
    expect(span!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span!.parentSpanContext).toMatchObject({ spanId: '00f067aa0ba902b7', isRemote: true });
    expect(span!.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'prism.interfaces.queue.QueueBasicInterface', 'rpc.method': 'Publish', 'prism.request_id': 'r-1', 'rpc.response.status_code': 'OK' });
    expect(span!.resource.attributes).toMatchObject({ 'service.name': 'prism-kafka-plugin', 'service.version': '9.9.9', 'deployment.environment.name': 'unit' });
  });

  it('starts a new trace without a caller context, and marks a failed call as an error (no internal details)', () => {
    const t = traced();
    const call = openCall({ operation: 'append' }, t.scope);
    call.end(new PluginError('INTERNAL', 'secret detail'));
    const [span] = t.spans();
    expect(span!.name).toBe('append');
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
    expect(span!.attributes['error.type']).toBe('INTERNAL');
  });

  it('writes the server span\'s traceparent (and the caller\'s tracestate) into a published record', async () => {
    const t = traced();
    const k = kafka();
    const call = openCall({ operation: 'publish', parent: caller }, t.scope);
    await publish(k.deps, { topic: 'orders', payload: Buffer.from('x') }, call.ctx);
    call.end();
    const [span] = t.spans();
    const [record] = k.producer.calls[0]!;
    expect(header(record!.headers, 'traceparent')).toEqual([`00-${span!.spanContext().traceId}-${span!.spanContext().spanId}-01`]);
    expect(header(record!.headers, 'tracestate')).toEqual(['vendor=caller']);
    expect(span!.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': 'orders' });
  });

  it('leaves a record\'s own traceparent (metadata) as the caller set it', async () => {
    const t = traced();
    const k = kafka();
    const own = '00-11111111111111111111111111111111-2222222222222222-01';
    const call = openCall({ operation: 'publish', parent: caller }, t.scope);
    await publish(k.deps, { topic: 'orders', payload: Buffer.from('x'), metadata: { traceparent: own } }, call.ctx);
    expect(header(k.producer.calls[0]![0]!.headers, 'traceparent')).toEqual([own]);
  });

  it('delivers a record that carries a trace context inside that trace, linked to the reading call; one without it as the call\'s child', async () => {
    const t = traced();
    const k = kafka();
    const origin = '00-33333333333333333333333333333333-4444444444444444-01';
    k.log.append('orders', 0, { value: Buffer.from('a'), key: undefined, headers: [['traceparent', Buffer.from(origin)]], timestamp: 1 });
    k.log.append('orders', 0, { value: Buffer.from('b'), key: undefined, headers: [], timestamp: 2 });
    const call = openCall({ operation: 'tail', rpc: '/prism.interfaces.stream.StreamBasicInterface/Tail' }, t.scope);
    const events = await tail({ reader: new FakeReader(k.log), metrics: testMetrics(), tailTuning: { maxWaitMs: 20 } }, { topic: 'orders', start: 'earliest' }, call.ctx);
    await take(events, 2);
    await events.return();
    call.end();
    const server = t.spans().find((s) => s.kind === SpanKind.SERVER)!;
    const consumers = t.spans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.map((s) => s.name)).toEqual(['tail orders', 'tail orders']);
    // The first carries the publisher's context: it continues that trace, child of the publisher's span.
    expect(consumers[0]!.spanContext().traceId).toBe(parseTraceparent(origin)!.traceId);
    expect(consumers[0]!.parentSpanContext?.spanId).toBe('4444444444444444');
    expect(consumers[0]!.links.map((l) => l.context)).toMatchObject([{ traceId: server.spanContext().traceId, spanId: server.spanContext().spanId }]);
    // The second carries none: a child of the call's span, in the call's trace.
    expect(consumers[1]!.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(consumers[1]!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(consumers[0]!.attributes).toMatchObject({ 'messaging.destination.name': 'orders', 'messaging.destination.partition.id': '0', 'messaging.kafka.offset': 0 });
    expect(consumers[1]!.links).toEqual([]);
    expect(server.attributes).toMatchObject({ 'messaging.operation.type': 'receive', 'messaging.destination.name': 'orders' });
  });

  it('logs the trace id of the span when the caller sent none', () => {
    const lines: Record<string, unknown>[] = [];
    const t = traced();
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const call = openCall({ operation: 'query' }, { ...t.scope, log });
    call.ctx.log.info('x');
    call.end();
    expect(lines[0]!.trace_id).toBe(t.spans()[0]!.spanContext().traceId);
  });

  it('with tracing off builds no span and writes no header: the context has no trace', async () => {
    const k = kafka();
    const call = openCall({ operation: 'publish', parent: caller }, { log: pino({ level: 'silent' }) });
    expect(call.ctx.trace).toBeUndefined();
    await publish(k.deps, { topic: 'orders', payload: Buffer.from('x') }, call.ctx);
    expect(k.producer.calls[0]![0]!.headers.map(([n]) => n)).toEqual(['prism-message-id']);
  });

  it('shuts down once, however often it is asked, within its time limit', async () => {
    const t = traced();
    const first = t.tracing.shutdown(100);
    expect(t.tracing.shutdown(100)).toBe(first);
    await first;
    openCall({ operation: 'publish' }, t.scope).end();
    expect(t.spans()).toEqual([]);
  });
});
