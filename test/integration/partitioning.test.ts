import { randomUUID } from 'node:crypto';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { call, client } from '../support/grpc-client.ts';
import { kcatReadTopic, partitionsInOrder } from '../support/kcat-topic.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

let plugin: TestPlugin;
let pubsub: Client;
let stream: Client;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  pubsub = client(plugin.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
  stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
});
afterAll(async () => {
  pubsub.close();
  stream.close();
  await plugin.close();
});

/** A new 3-partition topic, then `count` keyless publishes one after the other, each awaited before the next. */
async function publishSequentially(count: number, payload: Buffer): Promise<number[]> {
  const topic = `partitioning-${randomUUID()}`;
  await call(stream, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
  for (let i = 0; i < count; i++) {
    const res = await call<{ success: boolean }>(pubsub, 'Publish', { topic, payload, metadata: { sequence: String(i) } });
    expect(res.success).toBe(true);
  }
  const records = await kcatReadTopic(inject('kafkaBrokers'), topic);
  expect(records).toHaveLength(count);
  return partitionsInOrder(records, 'sequence');
}

/** Lengths of the runs of equal neighbours, with the partition of each run: [0,0,2] → [[0,2],[2,1]]. */
function runs(xs: number[]): [partition: number, length: number][] {
  const out: [number, number][] = [];
  for (const [i, x] of xs.entries()) {
    if (i > 0 && xs[i - 1] === x) out[out.length - 1]![1]++;
    else out.push([x, 1]);
  }
  return out;
}

/**
 * Keyless records as Java's default producer places them (KIP-794, uniform sticky): about batch.size (16 KiB) on one
 * partition, then the next, across produce requests, read back from the broker with kcat.
 */
describe('keyless partitioning over gRPC on the real broker', () => {
  it('puts ten sequential small keyless publishes on one partition', async () => {
    const partitions = await publishSequentially(10, Buffer.from('small'));
    expect(new Set(partitions).size, `partitions in publish order: ${partitions.join(',')}`).toBe(1);
  });

  it('spreads 200 × 1 KiB sequential publishes in runs of about 16 KiB per partition', async () => {
    const partitions = await publishSequentially(200, Buffer.alloc(1024, 'x'));
    const found = runs(partitions);
    // 16 KiB of 1 KiB values with their headers and record overhead: 13–16 records a run (the last may be short).
    for (const [, length] of found.slice(0, -1)) expect(length, `runs: ${JSON.stringify(found)}`).toBeGreaterThanOrEqual(13);
    for (const [, length] of found) expect(length, `runs: ${JSON.stringify(found)}`).toBeLessThanOrEqual(16);
    expect(found.length).toBeGreaterThanOrEqual(12);
    // Every partition gets its share, and each run is on another partition than the one before.
    expect(new Set(partitions)).toEqual(new Set([0, 1, 2]));
    for (let i = 1; i < found.length; i++) expect(found[i]![0]).not.toBe(found[i - 1]![0]);
  });

  it('refuses a record for a partition the topic lacks alone; its keyless neighbours in the request are written', async () => {
    const topic = `partitioning-${randomUUID()}`;
    await call(stream, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
    // The port directly: the gRPC handlers refuse such a partition before it reaches the producer.
    const producer = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } })).producer();
    try {
      const record = (value: string, partition?: number) => ({ topic, value: Buffer.from(value), headers: [], ...(partition === undefined ? {} : { partition }) });
      const outcomes = await producer.produce([record('a'), record('bad', 7), record('b')], {});
      expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining(`partition: expected a partition of topic ${topic} (0–2), got 7`) } });
      const written = outcomes.filter((o) => o.ok).map((o) => o.ack);
      expect(written).toHaveLength(2);
      expect(written[0]!.partition).toBe(written[1]!.partition);
      const records = await kcatReadTopic(inject('kafkaBrokers'), topic);
      expect(records.map((r) => r.payload).sort()).toEqual(['a', 'b']);
    } finally {
      await producer.close();
    }
  });
});
