import { randomUUID } from 'node:crypto';
import type { Client, ServiceError } from '@grpc/grpc-js';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { servedDefinitions } from '../../adapters/protos/services.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { streamClient, unaryCall, type WireEvent } from '../support/stream-client.ts';

/** What stock gRPC clients accept (our client keeps that default): every page must be smaller. */
const grpcLimit = 4 << 20;
/** Re-encodes a page with the server's own serializer: its size on the wire. */
const method = servedDefinitions()['prism.interfaces.stream.StreamBasicInterface'] as unknown as Record<string, { responseSerialize(value: unknown): Buffer }>;
const wireBytes = (page: Page) => method.Query!.responseSerialize(page).length;

interface Page { events: WireEvent[]; next_cursor: string }
const id = (e: { partition: number; offset: string }) => `${e.partition}:${e.offset}`;

let plugin: TestPlugin;
let client: Client;
let kafka: kafkajs.Kafka;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  client = streamClient(plugin.address);
  kafka = new kafkajs.Kafka({ brokers: inject('kafkaBrokers').split(','), logLevel: kafkajs.logLevel.NOTHING });
});
afterAll(async () => {
  client.close();
  await plugin.close();
});

/** Pages a query to its end, checking every page on the way; the error of a failed page is thrown as is. */
async function pageThrough(topic: string, limit: number): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor = '';
  do {
    const page = await unaryCall<Page>(client, 'Query', { topic, limit, cursor });
    expect(wireBytes(page)).toBeLessThan(grpcLimit);
    // A cursor always moves on: a page that is not the last returns something and never hands back its own cursor.
    if (page.next_cursor !== '') {
      expect(page.events.length).toBeGreaterThan(0);
      expect(page.next_cursor).not.toBe(cursor);
    }
    pages.push(page);
    cursor = page.next_cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== '');
  return pages;
}

/** A one-partition topic that accepts records of up to 8 MiB, written by kafkajs: the plugin's Append stops at 1 MiB. */
async function bigRecordTopic(sizes: number[]): Promise<{ topic: string; offsets: string[] }> {
  const topic = `stream-query-big-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(8 << 20) }] }] });
    const t0 = Date.now() - 60_000;
    const offsets: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const [meta] = await producer.send({ topic, messages: [{ partition: 0, timestamp: String(t0 + i), value: Buffer.alloc(size, i % 256) }] });
      offsets.push(meta!.baseOffset!);
    }
    return { topic, offsets };
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
}

describe('Query pages stay under the gRPC message limit on the real broker', () => {
  it('pages records of 100 KiB carrying 60 KiB of tags to the end, every page under 4 MiB, every record once', async () => {
    const topic = `stream-query-tags-${randomUUID()}`;
    await unaryCall(client, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
    const tags = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`tag-${i}`, `${i}`.padEnd(1_000, 't')]));
    const t0 = Date.now() - 60_000;
    const appended: string[] = [];
    // The test plugin accepts requests of up to 2 MiB: eight records of 160 KiB per AppendBatch.
    for (let chunk = 0; chunk < 6; chunk++) {
      const records = Array.from({ length: 8 }, (_, j) => {
        const i = chunk * 8 + j;
        return { partition: i % 3, event_time: String(t0 + i), payload: Buffer.alloc(100 << 10, i), tags };
      });
      const res = await unaryCall<{ results: { partition: number; offset: string }[] }>(client, 'AppendBatch', { topic, records });
      appended.push(...res.results.map(id));
    }

    const pages = await pageThrough(topic, 1_000);
    const events = pages.flatMap((p) => p.events);
    expect(events.map(id).sort()).toEqual([...appended].sort());
    expect(new Set(events.map(id)).size).toBe(48);
    expect(events.every((e) => e.tags['tag-59']?.length === 1_000)).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });

  it('returns a record near the limit alone in its own page, between pages of its neighbours', async () => {
    const near = grpcLimit - (64 << 10);
    const { topic, offsets } = await bigRecordTopic([1_000, 1_000, 1_000, near, 1_000, 1_000]);
    const pages = await pageThrough(topic, 100);
    expect(pages.map((p) => p.events.map((e) => e.offset))).toEqual([offsets.slice(0, 3), [offsets[3]], offsets.slice(4)]);
    expect(pages[1]!.events[0]!.payload.length).toBe(near);
  });

  it('answers RESOURCE_EXHAUSTED naming the record when one cannot fit in any answer, after the pages before it', async () => {
    const { topic, offsets } = await bigRecordTopic([1_000, 1_000, (4 << 20) + (256 << 10), 1_000]);
    const first = await unaryCall<Page>(client, 'Query', { topic, limit: 100 });
    expect(first.events.map((e) => e.offset)).toEqual(offsets.slice(0, 2));
    const err = await unaryCall<Page>(client, 'Query', { topic, limit: 100, cursor: first.next_cursor }).catch((e: unknown) => e as ServiceError);
    expect(err).toMatchObject({ code: 8 });
    expect((err as ServiceError).details).toContain(`record ${offsets[2]} of topic ${topic} partition 0`);
    expect((err as ServiceError).details).toContain(`gRPC message limit (${grpcLimit} bytes)`);
  });
});
