import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { client as grpcClient, StreamReader } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { openTail, streamClient, unaryCall, type WireEvent } from '../support/stream-client.ts';

const run = promisify(execFile);
const kafkaTool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));

/** 30 aborted records of 100 KiB: 3 MB, far more than one Tail fetch (256 KiB) or one Query fetch (≤ 1 MiB) holds. */
const abortedCount = 30;
const abortedBytes = 100 << 10;
const committed = Array.from({ length: 15 }, (_, i) => `committed-${i}`);

let plugin: TestPlugin;
let client: Client;
let topic: string;

/** Writes committed-0…4, then an aborted transaction of big records (one batch each), then committed-5…14. */
async function produceTransactions(brokers: string): Promise<void> {
  const kafka = new kafkajs.Kafka({ brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: `txn-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const commit = async (values: string[]) => {
      const txn = await producer.transaction();
      for (const value of values) await txn.send({ topic, messages: [{ partition: 0, value }] });
      await txn.commit();
    };
    await commit(committed.slice(0, 5));
    const txn = await producer.transaction();
    for (let i = 0; i < abortedCount; i++) {
      // Each send is its own batch, so the abort marker is many batches (and fetches) after the first aborted one.
      await txn.send({ topic, messages: [{ partition: 0, value: `aborted-${i}-${'x'.repeat(abortedBytes)}` }] });
    }
    await txn.abort();
    await commit(committed.slice(5));
  } finally {
    await producer.disconnect();
  }
}

/** Values as Kafka's own console consumer reads them (read_committed), until it has been idle for a few seconds. */
async function consoleConsumer(isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const args = ['kafka-console-consumer', '--bootstrap-server', inject('kafkaBrokers'), '--topic', topic, '--from-beginning', '--isolation-level', isolation, '--timeout-ms', '15000'];
  // It exits non-zero when its idle timeout ends the read; what it printed is the answer.
  const out = await run(kafkaTool, args, { timeout: 60_000, maxBuffer: 64 << 20 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return out.stdout.split('\n').filter((l) => l !== '').map((l) => l.slice(0, 20));
}

const values = (events: WireEvent[]) => events.map((e) => e.payload.toString('utf8').slice(0, 20));

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  client = streamClient(plugin.address);
  topic = `stream-txn-${randomUUID()}`;
  await unaryCall(client, 'CreateStream', { topic, partitions: 1, replication_factor: 1 });
  await produceTransactions(inject('kafkaBrokers'));
});
afterAll(async () => {
  client.close();
  await plugin.close();
});

describe('read_committed across fetch boundaries on the real broker', () => {
  it('the broker holds the aborted records, and Kafka\'s read_committed consumer sees only the committed ones', { timeout: 120_000 }, async () => {
    const readCommitted = await consoleConsumer('read_committed');
    const readUncommitted = await consoleConsumer('read_uncommitted');
    expect(readCommitted).toEqual(committed);
    expect(readUncommitted).toHaveLength(committed.length + abortedCount);
  });

  it('Tail from earliest delivers every committed record in order and none of the aborted transaction', async () => {
    const t = openTail(client, { topic, start: 'earliest' });
    try {
      const events = await t.take(committed.length, 20_000);
      expect(values(events)).toEqual(committed);
      // Nothing else follows: an aborted record delivered late would show up here.
      await expect(t.take(1, 2_000)).rejects.toThrow(/only 0 of 1/);
    } finally {
      t.call.cancel();
    }
  });

  it.each([3, 100])('Query pages of %i return every committed record once, in order, and none of the aborted transaction', async (limit) => {
    const events: WireEvent[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await unaryCall<{ events: WireEvent[]; next_cursor: string }>(client, 'Query', { topic, limit, cursor });
      events.push(...page.events);
      cursor = page.next_cursor;
      expect(++pages).toBeLessThan(50);
    } while (cursor !== '');
    expect(values(events)).toEqual(committed);
  });

  it('Consume (queue, group member) delivers every committed record in order and none of the aborted transaction', async () => {
    const queue = grpcClient(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
    const s = new StreamReader<{ payload: Buffer; receipt: string }>(queue, 'Consume', { topic, group: `g-${topic}`, max_unacked: 100 });
    try {
      await s.waitFor(committed.length, 20_000);
      // Nothing else follows: an aborted record delivered late would show up here.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(s.received.map((m) => m.payload.toString('utf8').slice(0, 20))).toEqual(committed);
    } finally {
      s.cancel();
      queue.close();
    }
  });
});
