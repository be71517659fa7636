import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients, readerGroupIdPrefix } from '../../core/kafka/index.ts';
import { tail } from '../../handlers/tail.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { openTail, streamClient, unaryCall } from '../support/stream-client.ts';
import { take, testMetrics } from '../support/streams.ts';

const run = promisify(execFile);
const kafkaTool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));
const tool = async (name: string, ...args: string[]) => (await run(kafkaTool, [name, '--bootstrap-server', inject('kafkaBrokers'), ...args], { timeout: 60_000, maxBuffer: 16 << 20 })).stdout;

let plugin: TestPlugin;
let client: Client;
/** Every topic this file tails or queries: no consumer group may ever show them. */
const topics: string[] = [];

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  client = streamClient(plugin.address);
});
afterAll(async () => {
  client.close();
  await plugin.close();
});

const newStream = async (name: string) => {
  const topic = `stream-${name}-${randomUUID()}`;
  topics.push(topic);
  await unaryCall(client, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
  return topic;
};
const appendBatch = (topic: string, records: Record<string, unknown>[]) => unaryCall<{ appended: number }>(client, 'AppendBatch', { topic, records });
const key = (e: { partition: number; offset: string }) => `${e.partition}:${e.offset}`;

describe('Tail over gRPC on the real broker', () => {
  it('from a timestamp delivers exactly the events at or after it; resuming from the last cursor leaves no gap and no duplicate', async () => {
    const topic = await newStream('tail-time');
    const t0 = Date.now() - 60_000;
    const first = Array.from({ length: 150 }, (_, i) => ({ partition: i % 3, event_time: String(t0 + i), payload: Buffer.from(`a${i}`) }));
    expect((await appendBatch(topic, first)).appended).toBe(150);
    const from = t0 + 60;

    const one = openTail(client, { topic, start_time: String(from) });
    const before = await one.take(40);
    one.call.cancel();
    expect((await one.ended)?.code).toBe(1);

    // Appended while no tail is open: the resumed tail must deliver them too.
    const second = Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, event_time: String(t0 + 1_000 + i), payload: Buffer.from(`b${i}`) }));
    expect((await appendBatch(topic, second)).appended).toBe(30);

    const two = openTail(client, { topic, cursor: before.at(-1)!.cursor });
    const after = await two.take(90 - 40 + 30);
    // Nothing else arrives: no duplicate of an event delivered before the disconnect.
    await new Promise((r) => setTimeout(r, 700));
    const extra = await two.take(1, 1).catch(() => []);
    two.call.cancel();

    const all = [...before, ...after, ...extra];
    expect(new Set(all.map(key)).size).toBe(all.length);
    expect(all).toHaveLength(120);
    const payloads = all.map((e) => e.payload.toString());
    const expected = [...first.filter((r) => Number(r.event_time) >= from), ...second].map((r) => r.payload.toString());
    expect(payloads.sort()).toEqual(expected.sort());
    expect(all.every((e) => Number(e.timestamp) >= from)).toBe(true);
    for (const p of [0, 1, 2]) {
      const offsets = all.filter((e) => e.partition === p).map((e) => Number(e.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('from latest delivers an event appended after the tail is positioned, with its tags and a cursor', async () => {
    const topic = await newStream('tail-latest');
    await appendBatch(topic, [{ payload: Buffer.from('old') }]);
    const t = openTail(client, { topic });
    await t.positioned;
    const sent = Date.now();
    const res = await unaryCall<{ partition: number; offset: string }>(client, 'Append', { topic, payload: Buffer.from('new'), tags: { kind: 'live' } });
    const [event] = await t.take(1, 10_000);
    console.log(`tail from latest: delivered ${Date.now() - sent} ms after the append was sent`);
    t.call.cancel();
    expect(event).toMatchObject({ topic, partition: res.partition, offset: res.offset, payload: Buffer.from('new'), tags: { kind: 'live' } });
    expect(event!.cursor).not.toBe('');
  });

  it('filters by key and tags', async () => {
    const topic = await newStream('tail-filter');
    const records = Array.from({ length: 30 }, (_, i) => ({ key: Buffer.from(`k${i % 3}`), tags: { color: i % 2 === 0 ? 'red' : 'blue' }, payload: Buffer.from(String(i)) }));
    await appendBatch(topic, records);
    const t = openTail(client, { topic, start: 'earliest', key_filter: Buffer.from('k1'), tag_filter: { color: 'red' } });
    const got = await t.take(5);
    await new Promise((r) => setTimeout(r, 500));
    const extra = await t.take(1, 1).catch(() => []);
    t.call.cancel();
    expect(extra).toEqual([]);
    expect(got.map((e) => Number(e.payload.toString())).sort((a, b) => a - b)).toEqual([4, 10, 16, 22, 28]);
  });

  it('refuses a malformed cursor with INVALID_ARGUMENT and a missing stream with NOT_FOUND', async () => {
    const topic = await newStream('tail-errors');
    const bad = openTail(client, { topic, cursor: 'not-a-cursor' });
    expect((await bad.ended)?.code).toBe(3);
    const missing = openTail(client, { topic: `stream-missing-${randomUUID()}` });
    expect((await missing.ended)?.code).toBe(5);
  });
});

describe('a tail while partitions are added', () => {
  it('follows the new partition from its first event', async () => {
    const topic = await newStream('tail-grow');
    const clients = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } }));
    const reader = clients.reader();
    const producer = clients.producer();
    const abort = new AbortController();
    const ctx = { signal: abort.signal, log: pino({ level: 'silent' }), requestId: 'grow' };
    try {
      const events = await tail({ reader, metrics: testMetrics(), tailTuning: { partitionCheckMs: 300 } }, { topic }, ctx);
      await tool('kafka-topics', '--alter', '--topic', topic, '--partitions', '4');
      // The producer's metadata may still say 3 partitions for a moment; it refuses partition 3 until it knows.
      for (let i = 0; i < 50; i++) {
        const [o] = await producer.produce([{ topic, partition: 3, value: Buffer.from('in p3'), headers: [] }], {});
        if (o?.ok === true) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const [event] = await take(events, 1, 15_000);
      expect(event).toMatchObject({ partition: 3, offset: '0', payload: Buffer.from('in p3') });
      abort.abort();
      await events.return();
    } finally {
      await producer.close();
      await reader.close();
    }
  });
});

describe('a plugin that drains', () => {
  it('ends open tails at once with UNAVAILABLE and counts them as drained', async () => {
    const own = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
    const c = streamClient(own.address);
    try {
      const topic = await newStream('tail-drain');
      const t = openTail(c, { topic });
      await t.positioned;
      const started = Date.now();
      const counts = await own.runtime.drain(10_000, 'test drain');
      const err: ServiceError | null = await t.ended;
      expect(err?.code).toBe(14);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(counts).toEqual({ drained: 1, aborted: 0 });
    } finally {
      c.close();
      await own.close();
    }
  });
});

describe('after the tails and queries of this file', () => {
  it('no consumer group exists for the reader or for any stream it read (kafka-consumer-groups)', async () => {
    const topic = await newStream('tail-groups');
    await appendBatch(topic, [{ payload: Buffer.from('x') }]);
    await unaryCall(client, 'Query', { topic });
    const t = openTail(client, { topic, start: 'earliest' });
    await t.take(1);
    const groups = (await tool('kafka-consumer-groups', '--list')).split('\n').filter(Boolean);
    const described = await tool('kafka-consumer-groups', '--describe', '--all-groups');
    t.call.cancel();
    console.log(`consumer groups on the broker: ${groups.length}; streams read by this file: ${topics.length}`);
    expect(groups.filter((g) => g.startsWith(readerGroupIdPrefix))).toEqual([]);
    for (const read of topics) expect(described).not.toContain(read);
    expect(topics.length).toBeGreaterThanOrEqual(6);
  });
});

