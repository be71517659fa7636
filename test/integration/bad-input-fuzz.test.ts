import { credentials, Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

/** A small seeded PRNG (mulberry32): every run sends the same requests, and a failure names its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const unary = [
  '/prism.interfaces.queue.QueueBasicInterface/Publish', '/prism.interfaces.queue.QueueBasicInterface/PublishBatch',
  '/prism.interfaces.queue.QueueBasicInterface/Ack', '/prism.interfaces.queue.QueueBasicInterface/Nack',
  '/prism.interfaces.queue.QueueBasicInterface/Seek', '/prism.interfaces.queue.QueueBasicInterface/GetOffsets',
  '/prism.interfaces.pubsub.PubSubBasicInterface/Publish', '/prism.interfaces.pubsub.PubSubBasicInterface/Unsubscribe',
  '/prism.interfaces.stream.StreamBasicInterface/Append', '/prism.interfaces.stream.StreamBasicInterface/AppendBatch',
  '/prism.interfaces.stream.StreamBasicInterface/Query', '/prism.interfaces.stream.StreamBasicInterface/CreateStream',
  '/prism.interfaces.LifecycleInterface/Initialize',
];
const streaming = [
  '/prism.interfaces.queue.QueueBasicInterface/Consume', '/prism.interfaces.pubsub.PubSubBasicInterface/Subscribe',
  '/prism.interfaces.stream.StreamBasicInterface/Tail',
];

/**
 * Bytes that cannot decode: an unknown field (numbers 1000–1999, which no message of ours uses) with a wire type
 * protobuf does not have (6 or 7). protobufjs decodes many other malformed inputs leniently into garbage values —
 * known fields are read whatever their wire type — which the handlers then refuse as bad values.
 */
function undecodable(r: ReturnType<typeof prng>): Buffer {
  let tag = ((1000 + r.int(1000)) << 3) | r.pick([6, 7]);
  const varint: number[] = [];
  while (tag > 0x7f) {
    varint.push((tag & 0x7f) | 0x80);
    tag >>>= 7;
  }
  varint.push(tag);
  const body = Buffer.from(Array.from({ length: r.int(20) }, () => r.int(256)));
  return Buffer.concat([Buffer.from(varint), body]);
}

const badTopics = ['a/b', 'x'.repeat(300), '', '..', 'spaces are not allowed', 'tab\there', 'emoji-😀', 'nul\u0000byte', '\ud800lone-surrogate'];

let plugin: TestPlugin;
let raw: Client;
beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  raw = new Client(plugin.address, credentials.createInsecure());
});
afterAll(async () => {
  raw.close();
  await plugin.close();
});

const rawUnary = (path: string, bytes: Buffer) => new Promise<ServiceError | null>((resolve) => {
  raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(err));
});
const rawStream = (path: string, bytes: Buffer) => new Promise<ServiceError | null>((resolve) => {
  const s = raw.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), { deadline: Date.now() + 10_000 });
  s.on('data', () => undefined);
  s.on('error', (e: ServiceError) => resolve(e));
  s.on('end', () => resolve(null));
});

describe('bad input never takes the plugin down, never reaches Kafka, and is answered INVALID_ARGUMENT', () => {
  it('undecodable bytes to every RPC: INVALID_ARGUMENT naming the message type (not grpc-js\'s INTERNAL)', async () => {
    const r = prng(20261127);
    let sent = 0;
    for (let round = 0; round < 40; round++) {
      for (const path of unary) {
        const err = await rawUnary(path, undecodable(r));
        sent++;
        expect([path, err?.code]).toEqual([path, 3]);
        expect(err?.details).toContain('expected a valid protobuf message');
      }
      for (const path of streaming) {
        const err = await rawStream(path, undecodable(r));
        sent++;
        expect([path, err?.code]).toEqual([path, 3]);
      }
    }
    console.log(`fuzz: undecodable requests sent=${sent}, all INVALID_ARGUMENT`);
  }, 120_000);

  it('well-formed messages with bad values: topic names, sizes, numbers, cursors, receipts, enums', async () => {
    const r = prng(7);
    const queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
    const stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
    const pubsub = client(plugin.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
    const huge = Buffer.alloc(1_048_577);
    // The topic the cases name exists (empty), so every answer is about the bad value, not a missing topic.
    await call(stream, 'CreateStream', { topic: 'fuzz-ok-name', partitions: 3, replication_factor: 1 });
    const cases: [ReturnType<typeof client>, string, () => object][] = [
      [queue, 'Publish', () => ({ topic: r.pick(badTopics), payload: Buffer.from('x') })],
      [queue, 'Publish', () => ({ topic: 'fuzz-ok-name', payload: huge })],
      [queue, 'Publish', () => ({ topic: 'fuzz-ok-name', payload: Buffer.from('x'), metadata: { '': 'v' } })],
      [queue, 'PublishBatch', () => ({ messages: [{ topic: 'fuzz-ok-name', payload: Buffer.from('x') }, { topic: r.pick(badTopics), payload: Buffer.from('y') }] })],
      [queue, 'PublishBatch', () => ({ messages: [] })],
      [queue, 'Ack', () => ({ receipts: [r.pick(['', 'nonsense', 'a:b:c', ':::', 'x'.repeat(500)])] })],
      [queue, 'Nack', () => ({ receipts: [], requeue: true })],
      [queue, 'GetOffsets', () => ({ topic: r.pick(badTopics) })],
      [queue, 'Seek', () => ({ topic: 'fuzz-ok-name', group: 'g' })],
      [pubsub, 'Publish', () => ({ topic: r.pick(badTopics), payload: Buffer.from('x') })],
      [stream, 'Append', () => ({ topic: r.pick(badTopics), payload: Buffer.from('x') })],
      [stream, 'Append', () => ({ topic: 'fuzz-ok-name', payload: Buffer.from('x'), event_time: String(-1 - r.int(1e9)) })],
      [stream, 'Query', () => ({ topic: 'fuzz-ok-name', start_time: '100', end_time: '50' })],
      [stream, 'Query', () => ({ topic: 'fuzz-ok-name', cursor: r.pick(['bogus', 'eyJ2IjoxfQ', '%%%', 'x'.repeat(5000)]) })],
      [stream, 'Query', () => ({ topic: 'fuzz-ok-name', limit: -1 - r.int(1000) })],
      [stream, 'CreateStream', () => ({ topic: 'fuzz-ok-name', partitions: -1 - r.int(10), replication_factor: 1 })],
      [stream, 'CreateStream', () => ({ topic: 'fuzz-ok-name', partitions: 2_000_000_000, replication_factor: 1 })],
    ];
    let sent = 0;
    const seen = new Map<number, number>();
    for (let round = 0; round < 30; round++) {
      for (const [c, method, make] of cases) {
        const request = make();
        const err = await call(c, method, request).then(() => null, (e: ServiceError) => e);
        sent++;
        seen.set(err?.code ?? 0, (seen.get(err?.code ?? 0) ?? 0) + 1);
        expect([method, JSON.stringify(request).slice(0, 120), err?.code]).toEqual([method, JSON.stringify(request).slice(0, 120), 3]);
        expect(err?.details).toMatch(/expected/);
      }
    }
    const tail = await new Promise<ServiceError | null>((resolve) => {
      const s = (stream as unknown as { Tail(req: object): NodeJS.EventEmitter }).Tail({ topic: 'fuzz-ok-name', cursor: 'not-a-cursor' });
      s.on('error', resolve);
      s.on('end', () => resolve(null));
    });
    expect(tail?.code).toBe(3);
    console.log(`fuzz: typed bad requests sent=${sent + 1}, statuses=${JSON.stringify(Object.fromEntries(seen))}`);
    for (const c of [queue, stream, pubsub]) c.close();

    // Still up, and nothing was written to Kafka by any of it.
    const lifecycle = client(plugin.address, 'prism.interfaces.LifecycleInterface');
    expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
    lifecycle.close();
    const produced = await plugin.runtime.scope.metrics.registry.getSingleMetricAsString('kafka_plugin_messages_produced_total');
    expect(produced).not.toMatch(/kafka_plugin_messages_produced_total\{[^}]*\} [1-9]/);
  }, 120_000);
});
