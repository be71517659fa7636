import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventHandler } from '../../adapters/function/handler.ts';
import type { HttpResponse } from '../../adapters/function/http-event.ts';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';
import { parseTraceparent } from '../../core/tracing/traceparent.ts';
import { pluginVersion } from '../../core/version.ts';
import { client, StreamReader } from '../support/grpc-client.ts';
import { headerMap, kcatRead } from '../support/kcat.ts';
import { attributesOf, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';

const run = promisify(execFile);
const queueService = 'prism.interfaces.queue.QueueBasicInterface';
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const SERVER = 2;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let plugin: PluginProcess;
let queue: Client;
const topic = `tracing-${randomUUID()}`;
// The caller's trace (sent as gRPC metadata), and a trace context a caller put on the record itself.
const caller = { traceId: hex(16), spanId: hex(8) };
const recordOwn = `00-${hex(16)}-${hex(8)}-01`;
let published: { partition: number; offset: string }[] = [];
let consumed: { metadata: Record<string, string> }[] = [];
let spans: OtlpSpan[] = [];

/** Publishes with grpcurl, a real third-party client, with the caller's trace context as request metadata. */
async function publish(payload: string, metadata: Record<string, string> = {}): Promise<{ partition: number; offset: string }> {
  const body = JSON.stringify({ topic, payload: Buffer.from(payload).toString('base64'), metadata });
  const { stdout } = await run(join(inject('toolsBin'), 'grpcurl'), [
    '-plaintext', '-H', `traceparent: 00-${caller.traceId}-${caller.spanId}-01`, '-H', 'tracestate: vendor=caller', '-d', body, plugin.address, `${queueService}/Publish`,
  ]);
  const res = JSON.parse(stdout) as { partition?: number; offset: string };
  return { partition: res.partition ?? 0, offset: res.offset };
}

/** Waits until the receiver holds spans satisfying `done` (exports are asynchronous). */
async function receivedUntil(done: (s: OtlpSpan[]) => boolean, timeoutMs = 15_000): Promise<OtlpSpan[]> {
  const until = Date.now() + timeoutMs;
  let got = receiver.spans();
  while (!done(got) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    got = receiver.spans();
  }
  return got;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver(join(inject('toolsBin'), 'otlp-receiver'));
  plugin = await startPluginProcess({ KAFKA_BROKERS: inject('kafkaBrokers'), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
  queue = client(plugin.address, queueService);
  published = [await publish('traced'), await publish('own context', { traceparent: recordOwn })];
  const stream = new StreamReader<{ metadata: Record<string, string> }>(queue, 'Consume', { topic, group: `tracing-${randomUUID()}`, subscriber_id: 'tracing-1' });
  consumed = await stream.waitFor(2);
  stream.cancel();
  // A graceful stop flushes the exporter: every span of the run is at the receiver once the process is gone.
  plugin.child.kill('SIGTERM');
  await plugin.exited;
  spans = await receivedUntil((s) => s.filter((x) => x.kind === CONSUMER).length >= 2);
}, 90_000);

afterAll(async () => {
  queue?.close();
  if (plugin?.child.exitCode === null) plugin.child.kill('SIGKILL');
  await receiver?.close();
});

const publishSpans = () => spans.filter((s) => s.name === `${queueService}/Publish`);

describe('tracing against a real OTLP receiver (OpenTelemetry Collector)', () => {
  it('continues the caller\'s trace: each Publish has a SERVER span in the caller\'s trace, child of its span', () => {
    const mine = publishSpans();
    expect(mine).toHaveLength(2);
    for (const s of mine) {
      expect(s).toMatchObject({ traceId: caller.traceId, parentSpanId: caller.spanId, kind: SERVER });
      expect(attributesOf(s.attributes)).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': queueService, 'rpc.method': 'Publish', 'messaging.system': 'kafka', 'messaging.destination.name': topic });
      expect(s.resource).toMatchObject({ 'service.name': 'prism-kafka-plugin', 'service.version': pluginVersion });
    }
  });

  it('writes the Publish span\'s traceparent (and the caller\'s tracestate) into the record, as kcat reads it', async () => {
    const [first] = published;
    const [record] = await kcatRead(inject('kafkaBrokers'), topic, first!.partition, first!.offset, 1);
    const headers = headerMap(record!);
    const span = publishSpans().find((s) => `00-${s.traceId}-${s.spanId}-01` === headers.traceparent);
    expect(span).toBeDefined();
    expect(headers.tracestate).toBe('vendor=caller');
    expect(consumed[0]!.metadata.traceparent).toBe(headers.traceparent);
  });

  it('leaves a traceparent the caller set on the record as it was: one header, the caller\'s', async () => {
    const second = published[1]!;
    const [record] = await kcatRead(inject('kafkaBrokers'), topic, second.partition, second.offset, 1);
    expect(record!.headers.filter((_, i) => i % 2 === 0 && record!.headers[i] === 'traceparent')).toHaveLength(1);
    expect(headerMap(record!).traceparent).toBe(recordOwn);
  });

  it('delivers each consumed record in the trace of the publish that wrote it (a CONSUMER span, child of the context the record carries), linked to the Consume call', () => {
    const consume = spans.find((s) => s.name === `${queueService}/Consume`);
    expect(consume).toMatchObject({ kind: SERVER });
    const deliveries = spans.filter((s) => s.kind === CONSUMER && s.name === `consume ${topic}`);
    expect(deliveries).toHaveLength(2);
    // The first record carries the Publish span's traceparent: its delivery shares the publish's trace, as its child.
    const stamped = parseTraceparent(consumed[0]!.metadata.traceparent)!;
    const publishSpan = publishSpans().find((p) => p.traceId === stamped.traceId && p.spanId === stamped.spanId);
    expect(publishSpan).toBeDefined();
    const first = deliveries.find((d) => d.parentSpanId === publishSpan!.spanId);
    expect(first).toMatchObject({ traceId: publishSpan!.traceId });
    // The second carries the caller's own context: its delivery continues that one.
    const own = parseTraceparent(recordOwn)!;
    expect(deliveries.find((d) => d !== first)).toMatchObject({ traceId: own.traceId, parentSpanId: own.spanId });
    // Both link back to the Consume call that delivered them.
    for (const d of deliveries) expect((d.links ?? []).map((l) => [l.traceId, l.spanId])).toEqual([[consume!.traceId, consume!.spanId]]);
    expect(attributesOf(first!.attributes)).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.operation.type': 'receive' });
  });
});

describe('tracing in the function runtime (same pipeline, same receiver)', () => {
  it('traces an HTTP invocation from the caller\'s traceparent header and stamps the record; the spans are out when it answers', async () => {
    const runtime = new FunctionRuntime({ env: { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_LOG_LEVEL: 'silent', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } });
    try {
      const trace = { traceId: hex(16), spanId: hex(8) };
      const body = JSON.stringify({ topic, payload: Buffer.from('from a function').toString('base64') });
      const res = await eventHandler(runtime)({
        version: '2.0', rawPath: '/publish', requestContext: { http: { method: 'POST', path: '/publish' } },
        headers: { traceparent: `00-${trace.traceId}-${trace.spanId}-01` }, body,
      }) as HttpResponse;
      expect(res.statusCode).toBe(200);
      const answer = JSON.parse(res.body) as { partition?: number; offset: string };
      // The invocation flushed its spans before answering (a function is frozen once it answers): they arrive well
      // within the batch processor's 5 s delay (the receiver's file exporter writes every 100 ms).
      const span = (await receivedUntil((all) => all.some((s) => s.traceId === trace.traceId), 2_000)).find((s) => s.traceId === trace.traceId);
      expect(span).toMatchObject({ name: 'publish', kind: SERVER, parentSpanId: trace.spanId });
      const [record] = await kcatRead(inject('kafkaBrokers'), topic, answer.partition ?? 0, answer.offset, 1);
      expect(headerMap(record!).traceparent).toBe(`00-${trace.traceId}-${span!.spanId}-01`);
    } finally {
      await runtime.close();
    }
  });
});
