import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { headerMap, kcatRead } from '../support/kcat.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

interface QueueMessage { message_id: string; topic: string; partition: number; offset: string; payload: Buffer; metadata: Record<string, string>; timestamp: string; attempt: number; receipt: string }
interface PsMessage { topic: string; payload: Buffer; metadata: Record<string, string>; message_id: string; timestamp: string }

const run = promisify(execFile);
let plugin: TestPlugin;
let queue: Client;
let pubsub: Client;
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONSUMER_MAX_RETRIES: '2' });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  pubsub = client(plugin.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
});
afterAll(async () => {
  queue.close();
  pubsub.close();
  await plugin.close();
});

async function publishAll(topic: string, n: number, extra: (i: number) => object = () => ({})): Promise<string[]> {
  const { results } = await call<{ results: { success: boolean; result: { message_id: string } }[] }>(queue, 'PublishBatch', {
    messages: Array.from({ length: n }, (_, i) => ({ topic, payload: Buffer.from(`m${i}`), metadata: { sequence: String(i) }, ...extra(i) })),
  });
  expect(results.every((r) => r.success)).toBe(true);
  return results.map((r) => r.result.message_id);
}

describe('upstream Kafka acceptance cases, through PubSubBasicInterface', () => {
  it('round-trips topic, payload, message id, ms timestamp and metadata', async () => {
    const topic = name('ps-roundtrip');
    const sub = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: name('s'), options: { start: 'earliest' } });
    await sub.ready;
    const before = Date.now();
    const pub = await call<{ message_id: string }>(pubsub, 'Publish', { topic, payload: Buffer.from('hello'), metadata: { k: 'v' } });
    const [m] = await sub.waitFor(1);
    expect(m).toMatchObject({ topic, payload: Buffer.from('hello'), metadata: { k: 'v' }, message_id: pub.message_id });
    expect(Number(m!.timestamp)).toBeGreaterThanOrEqual(before);
    sub.cancel();
  });

  it('delivers 10 messages of one key in order', async () => {
    const topic = name('ps-order');
    const sub = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: name('s'), options: { start: 'earliest' } });
    await sub.ready;
    for (let i = 0; i < 10; i++) await call(queue, 'Publish', { topic, payload: Buffer.from(`p${i}`), metadata: { sequence: String(i) }, key: Buffer.from('one-key') });
    const got = await sub.waitFor(10);
    expect(got.map((m) => m.metadata.sequence)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    sub.cancel();
  });

  it('delivers nothing after Unsubscribe', async () => {
    const topic = name('ps-unsub');
    const subscriber = name('s');
    const sub = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: subscriber, options: { start: 'earliest' } });
    await sub.ready;
    await call(pubsub, 'Publish', { topic, payload: Buffer.from('before') });
    await sub.waitFor(1);
    expect(await call(pubsub, 'Unsubscribe', { topic, subscriber_id: subscriber })).toMatchObject({ success: true });
    await sub.waitFor(99, 2_000);
    expect(sub.ended).toBe(true);
    await call(pubsub, 'Publish', { topic, payload: Buffer.from('after') });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sub.received.map((m) => m.payload.toString())).toEqual(['before']);
  });

  it('load-balances one queue over three receivers: 30 sent, 30 received, each receiver gets some', async () => {
    const topic = name('ps-lb');
    const group = name('g');
    const subs = [0, 1, 2].map((i) => new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: `${group}-r${i}`, options: { group, start: 'earliest' } }));
    await Promise.all(subs.map((s) => s.ready));
    // Each receiver must own a partition before the messages go out, or one member takes them all.
    await new Promise((r) => setTimeout(r, 4_000));
    await Promise.all(Array.from({ length: 30 }, (_, i) => call(queue, 'Publish', { topic, payload: Buffer.from(`lb${i}`), partition: i % 3 })));
    const until = Date.now() + 20_000;
    while (subs.reduce((n, s) => n + s.received.length, 0) < 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(subs.reduce((n, s) => n + s.received.length, 0)).toBe(30);
    for (const s of subs) expect(s.received.length).toBeGreaterThanOrEqual(1);
    for (const s of subs) s.cancel();
  });

  it('round-trips all 256 byte values', async () => {
    const topic = name('ps-bytes');
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const sub = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: name('s'), options: { start: 'earliest' } });
    await sub.ready;
    await call(pubsub, 'Publish', { topic, payload });
    const [m] = await sub.waitFor(1);
    expect(Buffer.compare(m!.payload, payload)).toBe(0);
    sub.cancel();
  });
});

describe('queue consume with explicit acknowledgement', () => {
  it('redelivers to a consumer that never acked, after it reconnects', async () => {
    const topic = name('q-noack');
    const group = name('g');
    const ids = await publishAll(topic, 5, () => ({ partition: 0 }));
    const first = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: 'worker-a' });
    expect((await first.waitFor(5)).map((m) => m.message_id)).toEqual(ids);
    first.cancel();
    const second = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: 'worker-a' });
    expect((await second.waitFor(5)).map((m) => m.message_id)).toEqual(ids);
    second.cancel();
  });

  it('commits up to the lowest unacknowledged offset when acks arrive out of order', async () => {
    const topic = name('q-order');
    const group = name('g');
    await publishAll(topic, 4, () => ({ partition: 0 }));
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group });
    const got = await s.waitFor(4);
    const r1 = await call<{ acknowledged: number; committed: string[] }>(queue, 'Ack', { receipts: [got[2]!.receipt, got[1]!.receipt] });
    expect(r1).toEqual({ acknowledged: 2, committed: [] });
    const r2 = await call<{ acknowledged: number; committed: string[] }>(queue, 'Ack', { receipts: [got[0]!.receipt] });
    expect(r2.committed).toEqual([`${topic}/0=3`]);
    const offsets = await call<{ partitions: { partition: number; committed: string; end: string; lag: string }[] }>(queue, 'GetOffsets', { topic, group });
    expect(offsets.partitions.find((p) => p.partition === 0)).toEqual({ partition: 0, committed: '3', end: '4', lag: '1' });
    s.cancel();
  });

  it('keeps at most max_unacked messages outstanding, and continues as acks arrive', async () => {
    const topic = name('q-window');
    await publishAll(topic, 20, () => ({ partition: 1 }));
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: name('g'), max_unacked: 5 });
    await s.waitFor(6, 5_000);
    expect(s.received).toHaveLength(5);
    await call(queue, 'Ack', { receipts: s.received.slice(0, 3).map((m) => m.receipt) });
    await s.waitFor(8, 5_000);
    expect(s.received).toHaveLength(8);
    s.cancel();
  });

  it('redelivers a nacked message with the next attempt number, then dead-letters it past the limit', async () => {
    const topic = name('q-dlq');
    const [id] = await publishAll(topic, 1, () => ({ key: Buffer.from('dlq-key'), metadata: { origin: 'test' } }));
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: name('g') });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const m = (await s.waitFor(attempt))[attempt - 1]!;
      expect(m).toMatchObject({ message_id: id, attempt });
      const res = await call<{ requeued: number; dead_lettered: number }>(queue, 'Nack', { receipts: [m.receipt], requeue: true, reason: 'handler failed' });
      expect(res).toMatchObject(attempt < 3 ? { requeued: 1, dead_lettered: 0 } : { requeued: 0, dead_lettered: 1 });
    }
    const all = (await Promise.all([0, 1, 2].map((p) => kcatRead(inject('kafkaBrokers'), `${topic}.dlq`, p, 0, 1)))).flat();
    expect(all).toHaveLength(1);
    const [dead] = all;
    expect(dead!.key).toBe('dlq-key');
    expect(headerMap(dead!)).toMatchObject({ 'prism-message-id': id, origin: 'test', 'prism-dlq-attempts': '3', 'prism-dlq-reason': 'attempts exhausted (3): handler failed' });
    expect(headerMap(dead!)['prism-dlq-source']).toMatch(new RegExp(`^${topic}/\\d/0$`));
    s.cancel();
  });

  it('shows the committed offsets it reports in kafka-consumer-groups --describe', async () => {
    const topic = name('q-describe');
    const group = name('g');
    await publishAll(topic, 9, (i) => ({ partition: i % 3 }));
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: name('w') });
    const got = await s.waitFor(9);
    // Ack everything except the last message of partition 2.
    const lastOf2 = got.filter((m) => m.partition === 2).at(-1)!;
    await call(queue, 'Ack', { receipts: got.filter((m) => m !== lastOf2).map((m) => m.receipt) });
    const ours = await call<{ partitions: { partition: number; committed: string; end: string; lag: string }[] }>(queue, 'GetOffsets', { topic, group });
    s.cancel();
    const { stdout } = await run('bash', ['scripts/infra/kafka-tool.sh', 'kafka-consumer-groups', '--bootstrap-server', inject('kafkaBrokers'), '--describe', '--group', group]);
    const rows = stdout.split('\n').filter((l) => l.includes(topic)).map((l) => l.trim().split(/\s+/));
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG …
    const theirs = rows.map((r) => ({ partition: Number(r[2]), committed: r[3], end: r[4], lag: r[5] })).sort((a, b) => a.partition - b.partition);
    expect(theirs).toEqual(ours.partitions);
    expect(ours.partitions.map((p) => p.committed)).toEqual(['3', '3', '2']);
  });

  it('seeks an idle group to earliest, a timestamp and explicit offsets; refuses while a member is active', async () => {
    const topic = name('q-seek');
    const group = name('g');
    await publishAll(topic, 3, () => ({ partition: 0 }));
    await new Promise((r) => setTimeout(r, 20));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await publishAll(topic, 2, () => ({ partition: 0 }));
    const committedOf0 = async () => (await call<{ partitions: { partition: number; committed: string }[] }>(queue, 'GetOffsets', { topic, group })).partitions[0]!.committed;

    expect(await call(queue, 'Seek', { topic, group, earliest_or_latest: 'latest' })).toMatchObject({ committed: { 0: '5' } });
    expect(await committedOf0()).toBe('5');
    await call(queue, 'Seek', { topic, group, timestamp: String(middle) });
    expect(await committedOf0()).toBe('3');
    await call(queue, 'Seek', { topic, group, offsets: { offsets: { 0: '1' } } });
    expect(await committedOf0()).toBe('1');
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group });
    expect((await s.waitFor(4)).map((m) => m.offset)).toEqual(['1', '2', '3', '4']);
    const busy = await call(queue, 'Seek', { topic, group, earliest_or_latest: 'earliest' }).catch((e: ServiceError) => e) as ServiceError;
    expect(busy.code).toBe(9);
    s.cancel();
  });

  it('rejects malformed receipts and unknown subscriptions clearly', async () => {
    const bad = await call(queue, 'Ack', { receipts: ['nonsense'] }).catch((e: ServiceError) => e) as ServiceError;
    expect(bad.code).toBe(3);
    expect(bad.details).toContain('receipts[0]: expected a receipt from a delivered message, got "nonsense"');
    const gone = await call(queue, 'Ack', { receipts: ['ghost~1:1:0:5'] }).catch((e: ServiceError) => e) as ServiceError;
    expect(gone.code).toBe(9);
  });
});

describe('compression', () => {
  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])('%s: records are readable by an independent client', async (codec) => {
    const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_COMPRESSION: codec });
    const c = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const topic = name(`codec-${codec}`);
      const payloads = Array.from({ length: 20 }, (_, i) => `${codec} record ${i} ${'x'.repeat(200)}`);
      await call(c, 'PublishBatch', { messages: payloads.map((s) => ({ topic, payload: Buffer.from(s), partition: 0 })) });
      const recs = await kcatRead(inject('kafkaBrokers'), topic, 0, 0, 20);
      expect(recs.map((r) => r.payload)).toEqual(payloads);
    } finally {
      c.close();
      await p.close();
    }
  });
});
