import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients, type ReaderPort } from '../../core/kafka/index.ts';
import { call, client as grpcClient, listServices } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { streamClient, unaryCall, type WireEvent } from '../support/stream-client.ts';

let plugin: TestPlugin;
let client: Client;
let reader: ReaderPort;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  client = streamClient(plugin.address);
  reader = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } })).reader();
});
afterAll(async () => {
  client.close();
  await reader.close();
  await plugin.close();
});

const newStream = async (name: string) => {
  const topic = `stream-${name}-${randomUUID()}`;
  await unaryCall(client, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
  return topic;
};

interface Page { events: WireEvent[]; next_cursor: string }
const key = (e: { partition: number; offset: string }) => `${e.partition}:${e.offset}`;

async function pages(request: Record<string, unknown>, limit: number): Promise<{ events: WireEvent[]; pages: number }> {
  const events: WireEvent[] = [];
  let cursor = typeof request.cursor === 'string' ? request.cursor : '';
  let n = 0;
  do {
    const page = await unaryCall<Page>(client, 'Query', { ...request, limit, cursor });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...page.events);
    cursor = page.next_cursor;
    n++;
  } while (cursor !== '');
  return { events, pages: n };
}

describe('Query over gRPC on the real broker', () => {
  // Partition p's i-th event is stamped t0 + 10 i (+3 on partition 1): partitions 0 and 2 tie on every time.
  const t0 = Date.now() - 600_000;
  const stamp = (p: number, i: number) => t0 + 10 * i + (p === 1 ? 3 : 0);
  let topic: string;
  const appended: { partition: number; offset: string; timestamp: number }[] = [];

  beforeAll(async () => {
    topic = await newStream('query');
    const records = [0, 1, 2].flatMap((p) => Array.from({ length: 100 }, (_, i) => ({ partition: p, event_time: String(stamp(p, i)), payload: Buffer.from(`${p}-${i}`), tags: { i: String(i) } })));
    const res = await unaryCall<{ results: { success: boolean; partition: number; offset: string; timestamp: string }[]; appended: number }>(client, 'AppendBatch', { topic, records });
    expect(res.appended).toBe(300);
    for (const r of res.results) appended.push({ partition: r.partition, offset: r.offset, timestamp: Number(r.timestamp) });
  });

  const inRange = (start: number, end: number) => appended
    .filter((r) => r.timestamp >= start && r.timestamp < end)
    .sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || Number(a.offset) - Number(b.offset));

  it('includes an event stamped exactly at start_time and excludes one stamped exactly at end_time', async () => {
    const start = stamp(0, 20);
    const end = stamp(0, 80);
    const { events } = await pages({ topic, start_time: String(start), end_time: String(end) }, 1000);
    expect(events.map(key)).toEqual(inRange(start, end).map(key));
    expect(events).toHaveLength(180);
    expect(events.filter((e) => Number(e.timestamp) === start).map((e) => e.partition)).toEqual([0, 2]);
    expect(events.some((e) => Number(e.timestamp) === end)).toBe(false);
    expect(events.every((e) => Number(e.timestamp) >= start && Number(e.timestamp) < end)).toBe(true);
    expect(events[0]).toMatchObject({ topic, partition: 0, payload: Buffer.from('0-20'), tags: { i: '20' } });
  });

  it.each([1, 7, 1000])('pages of %i return every event in range exactly once, by timestamp, partition, offset', async (limit) => {
    const start = stamp(0, 5);
    const end = stamp(1, 95);
    const { events, pages: n } = await pages({ topic, start_time: String(start), end_time: String(end) }, limit);
    const expected = inRange(start, end).map(key);
    expect(events.map(key)).toEqual(expected);
    expect(new Set(events.map(key)).size).toBe(expected.length);
    console.log(`page size ${limit}: ${events.length} events in ${n} pages`);
  });

  it('refuses a cursor of another query and a malformed cursor with INVALID_ARGUMENT', async () => {
    const first = await unaryCall<Page>(client, 'Query', { topic, start_time: String(t0), limit: 1 });
    const other: unknown = await unaryCall(client, 'Query', { topic, start_time: String(t0 + 1), cursor: first.next_cursor }).catch((e: unknown) => e);
    expect((other as ServiceError).code).toBe(3);
    const malformed: unknown = await unaryCall(client, 'Query', { topic, cursor: 'garbage' }).catch((e: unknown) => e);
    expect((malformed as ServiceError).code).toBe(3);
    expect((malformed as ServiceError).details).toContain('cursor: expected a cursor returned by an earlier Query call');
  });

  it('answers a missing stream with NOT_FOUND', async () => {
    const err: unknown = await unaryCall(client, 'Query', { topic: `stream-missing-${randomUUID()}` }).catch((e: unknown) => e);
    expect((err as ServiceError).code).toBe(5);
  });
});

describe('a Query started while a producer keeps appending', () => {
  it('finishes, returns every event appended before it started exactly once, and nothing past its snapshot', async () => {
    const topic = await newStream('snapshot');
    let stop = false;
    let acked = 0;
    const appendLoop = (async () => {
      for (let round = 0; !stop; round++) {
        const records = Array.from({ length: 200 }, (_, i) => ({ partition: i % 3, payload: Buffer.from(`r${round}-${i}`) }));
        acked += (await unaryCall<{ appended: number }>(client, 'AppendBatch', { topic, records })).appended;
      }
    })();
    while (acked < 2_000) await new Promise((r) => setTimeout(r, 20));
    const before = await reader.offsets(topic, 'latest');
    const ackedAtStart = acked;
    const first = await unaryCall<Page>(client, 'Query', { topic, limit: 500 });
    const after = await reader.offsets(topic, 'latest');
    const rest = first.next_cursor === '' ? { events: [] } : await pages({ topic, cursor: first.next_cursor }, 500);
    const ackedAtEnd = acked;
    stop = true;
    await appendLoop;
    const events = [...first.events, ...rest.events];
    expect(new Set(events.map(key)).size).toBe(events.length);
    for (const p of [0, 1, 2]) {
      const offsets = events.filter((e) => e.partition === p).map((e) => Number(e.offset)).sort((a, b) => a - b);
      // A prefix of the partition: from 0, no gap, at least up to what was there before, at most the snapshot.
      expect(offsets).toEqual([...offsets.keys()]);
      expect(offsets.length).toBeGreaterThanOrEqual(Number(before.get(p)));
      expect(offsets.length).toBeLessThanOrEqual(Number(after.get(p)));
    }
    expect(events.length).toBeGreaterThanOrEqual(ackedAtStart);
    // The producer kept going during the query, and the query still ended.
    expect(ackedAtEnd).toBeGreaterThan(ackedAtStart);
    console.log(`query returned ${events.length} events while ${ackedAtEnd - ackedAtStart} more were appended`);
  });
});

describe('CreateStream and Append over gRPC on the real broker', () => {
  it('creates a stream, accepts the same settings again, and refuses other settings with FAILED_PRECONDITION', async () => {
    const topic = `stream-create-${randomUUID()}`;
    const request = { topic, partitions: 3, replication_factor: 1, retention_ms: '3600000' };
    expect(await unaryCall(client, 'CreateStream', request)).toEqual({ topic, created: true, partitions: 3, replication_factor: 1, retention_ms: '3600000' });
    expect(await unaryCall(client, 'CreateStream', request)).toMatchObject({ created: false, partitions: 3, retention_ms: '3600000' });
    const err: unknown = await unaryCall(client, 'CreateStream', { ...request, partitions: 6 }).catch((e: unknown) => e);
    expect((err as ServiceError).code).toBe(9);
    expect((err as ServiceError).details).toBe(`stream ${topic} already exists with different settings: partitions 3 (requested 6)`);
    expect(await reader.describeTopic(topic, ['retention.ms'])).toMatchObject({ partitions: 3, configs: { 'retention.ms': '3600000' } });
  });

  it('appends an event with its event time, key and tags, and reads them back', async () => {
    const topic = await newStream('append');
    const eventTime = Date.now() - 5_000;
    const res = await unaryCall<{ partition: number; offset: string; timestamp: string }>(client, 'Append', { topic, payload: Buffer.from('hello'), key: Buffer.from('user-1'), tags: { source: 'it' }, event_time: String(eventTime) });
    expect(Number(res.timestamp)).toBe(eventTime);
    const page = await unaryCall<Page>(client, 'Query', { topic, start_time: String(eventTime), end_time: String(eventTime + 1) });
    expect(page.events).toHaveLength(1);
    expect(page.events[0]).toMatchObject({ partition: res.partition, offset: res.offset, timestamp: String(eventTime), key: Buffer.from('user-1'), payload: Buffer.from('hello'), tags: { source: 'it' } });
  });
});

describe('the stream interface as Prism discovers it', () => {
  it('is declared by Initialize (with aliases, proto file and hash), listed by reflection and served by gRPC health', async () => {
    const lifecycle = grpcClient(plugin.address, 'prism.interfaces.LifecycleInterface');
    const health = grpcClient(plugin.address, 'grpc.health.v1.Health');
    try {
      const res = await call<{ metadata: { interfaces: { name: string; proto_file: string; version: string; proto_hash: string; metadata: Record<string, string> }[] } }>(lifecycle, 'Initialize', { name: 'kafka', version: '0.1.0' });
      const file = 'prism/interfaces/stream/stream_basic.proto';
      const hash = createHash('sha256').update(readFileSync(new URL(`../../proto/${file}`, import.meta.url))).digest('hex');
      const declared = res.metadata.interfaces.filter((i) => i.proto_file === file);
      expect(declared.map((d) => d.name).sort()).toEqual(['StreamBasicInterface', 'TimeSeriesBasicInterface', 'prism.interfaces.stream.StreamBasicInterface']);
      for (const d of declared) expect(d).toMatchObject({ version: 'v1', proto_hash: hash, metadata: { service: 'prism.interfaces.stream.StreamBasicInterface' } });
      expect(await listServices(plugin.address)).toContain('prism.interfaces.stream.StreamBasicInterface');
      // Health follows the broker probes, which begin with Start (as Prism's launchers call it).
      await call(lifecycle, 'Start', {});
      let status = '';
      for (let i = 0; i < 50 && status !== 'SERVING'; i++) {
        status = (await call<{ status: string }>(health, 'Check', { service: 'prism.interfaces.stream.StreamBasicInterface' })).status;
        if (status !== 'SERVING') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('SERVING');
    } finally {
      lifecycle.close();
      health.close();
    }
  });
});
