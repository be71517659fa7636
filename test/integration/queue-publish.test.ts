import { randomUUID } from 'node:crypto';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { headerMap, kcatRead } from '../support/kcat.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

interface PublishResponse { message_id: string; topic: string; partition: number; offset: string; timestamp: string }

let plugin: TestPlugin;
let queue: Client;
let pubsub: Client;
const topic = () => `queue-publish-${randomUUID()}`;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  pubsub = client(plugin.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
});
afterAll(async () => {
  queue.close();
  pubsub.close();
  await plugin.close();
});

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the call to fail'); }, (e: ServiceError) => e);

describe('publish through gRPC, checked with an independent client (kcat)', () => {
  it('answers after the broker ack with message id, partition, offset and ms timestamp; the record is where it says', async () => {
    const t = topic();
    const before = Date.now();
    const res = await call<PublishResponse>(queue, 'Publish', { topic: t, payload: Buffer.from('hello'), metadata: { sequence: '1', 'content-type': 'text/plain' }, key: Buffer.from('k1') });
    expect(res.message_id).toMatch(uuid);
    expect(Number(res.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(res.timestamp)).toBeLessThanOrEqual(Date.now());
    const [rec] = await kcatRead(inject('kafkaBrokers'), t, res.partition, res.offset, 1);
    expect(rec).toMatchObject({ payload: 'hello', key: 'k1', ts: Number(res.timestamp), offset: Number(res.offset) });
    expect(headerMap(rec!)).toEqual({ 'prism-message-id': res.message_id, sequence: '1', 'content-type': 'text/plain' });
  });

  it('keeps a caller-supplied message id', async () => {
    const t = topic();
    const res = await call<PublishResponse>(queue, 'Publish', { topic: t, payload: Buffer.from('x'), message_id: 'order-42' });
    expect(res.message_id).toBe('order-42');
    const [rec] = await kcatRead(inject('kafkaBrokers'), t, res.partition, res.offset, 1);
    expect(headerMap(rec!)['prism-message-id']).toBe('order-42');
  });

  it('puts one key on one partition, as the Java client would', async () => {
    const t = topic();
    const results = await Promise.all(Array.from({ length: 20 }, () => call<PublishResponse>(queue, 'Publish', { topic: t, payload: Buffer.from('x'), key: Buffer.from('same-key') })));
    expect(new Set(results.map((r) => r.partition)).size).toBe(1);
    // murmur2("same-key") & 0x7fffffff % 3, as org.apache.kafka.common.utils.Utils computes it.
    expect(results[0]!.partition).toBe(javaPartition('same-key', 3));
  });

  it('publishes a batch with a result per message, each at its own offset', async () => {
    const t = topic();
    const messages = Array.from({ length: 50 }, (_, i) => ({ topic: t, payload: Buffer.from(`m${i}`), partition: i % 3 }));
    const { results } = await call<{ results: { index: number; success: boolean; result: PublishResponse }[] }>(queue, 'PublishBatch', { messages });
    expect(results.map((r) => r.index)).toEqual(messages.map((_, i) => i));
    expect(results.every((r) => r.success)).toBe(true);
    const positions = new Set(results.map((r) => `${r.result.partition}/${r.result.offset}`));
    expect(positions.size).toBe(50);
    for (const p of [0, 1, 2]) {
      const mine = results.filter((r) => r.result.partition === p);
      const recs = await kcatRead(inject('kafkaBrokers'), t, p, 0, mine.length);
      for (const r of mine) expect(recs.find((k) => k.offset === Number(r.result.offset))?.payload).toBe(`m${r.index}`);
    }
  });

  it('runs 10×10 concurrent publishes without error, every one at a distinct offset', async () => {
    const t = topic();
    const all = await Promise.all(Array.from({ length: 10 }, (_, c) => Promise.all(Array.from({ length: 10 }, (_, i) =>
      call<PublishResponse>(queue, 'Publish', { topic: t, payload: Buffer.from(`${c}-${i}`) })))));
    const flat = all.flat();
    expect(new Set(flat.map((r) => `${r.partition}/${r.offset}`)).size).toBe(100);
  });

  it('PubSubBasicInterface.Publish answers success with a message id after the ack', async () => {
    const t = topic();
    const res = await call<{ success: boolean; message_id: string; error: string }>(pubsub, 'Publish', { topic: t, payload: Buffer.from('ps'), metadata: { a: 'b' } });
    expect(res).toMatchObject({ success: true, error: '' });
    expect(res.message_id).toMatch(uuid);
  });

  describe('rejects bad input with INVALID_ARGUMENT naming the field, and writes nothing', () => {
    it.each([
      ['a topic with a slash', { topic: 'a/b', payload: Buffer.from('x') }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
      ['a 300-character topic', { topic: 'x'.repeat(300), payload: Buffer.from('x') }, 'topic: expected a topic name'],
      ['an empty topic', { topic: '', payload: Buffer.from('x') }, 'topic: expected a topic name'],
      ['a payload over the limit', { topic: 'ok-topic', payload: Buffer.alloc(1_048_577) }, 'payload: expected a payload of at most 1048576 bytes, got <1048577 bytes>'],
      ['too many headers', { topic: 'ok-topic', payload: Buffer.from('x'), metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])) }, 'metadata: expected at most 64 metadata entries'],
      ['a header value too large', { topic: 'ok-topic', payload: Buffer.from('x'), metadata: { big: 'v'.repeat(20_000) } }, 'metadata.big: expected a header value of at most 16384 characters'],
    ])('%s', async (_name, request, message) => {
      const err = await failure(call(queue, 'Publish', request));
      expect(err.code).toBe(3);
      expect(err.details).toContain(message);
    });
  });

  it('answers UNAVAILABLE before the deadline when no broker answers, and keeps serving', async () => {
    const down = await startPlugin({ KAFKA_BROKERS: '127.0.0.1:1' });
    const c = client(down.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const started = Date.now();
      const err = await failure(call(c, 'Publish', { topic: 'nowhere', payload: Buffer.from('x') }, { deadlineMs: 2_000 }));
      expect(err.code).toBe(14);
      expect(Date.now() - started).toBeLessThan(2_000);
      const again = await failure(call(c, 'Publish', { topic: 'a/b', payload: Buffer.from('x') }));
      expect(again.code).toBe(3);
    } finally {
      c.close();
      await down.close();
    }
  });
});

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), written independently of the client's. */
function javaPartition(key: string, partitions: number): number {
  const data = Buffer.from(key);
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ data.length) | 0;
  const len4 = data.length >> 2;
  for (let i = 0; i < len4; i++) {
    let k = data.readInt32LE(i * 4);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length & 3;
  const i = len4 * 4;
  if (rest === 3) h ^= (data[i + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[i + 1]! & 0xff) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[i]! & 0xff), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}
