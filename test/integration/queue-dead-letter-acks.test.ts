import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { kcatRead } from '../support/kcat.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

interface QueueMessage { partition: number; offset: string; receipt: string }

const run = promisify(execFile);
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
let plugin: TestPlugin;
let queue: Client;
let stream: Client;

// Publish gives up durability for speed here; dead letters must not (they replace a message that is then committed).
beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_ACKS: '0' });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
});
afterAll(async () => {
  queue.close();
  stream.close();
  await plugin.close();
});

/** A one-partition topic with one message; resolves with that message as a Consume stream delivered it. */
async function deliverOne(topic: string, payload: Buffer, group: string): Promise<{ consumer: StreamReader<QueueMessage>; message: QueueMessage }> {
  await call(stream, 'CreateStream', { topic, partitions: 1 });
  await call(queue, 'Publish', { topic, payload });
  const consumer = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: name('w') });
  const [message] = await consumer.waitFor(1);
  expect(message, 'the published message is delivered').toBeDefined();
  return { consumer, message: message! };
}

/** Producers Kafka tracks on a partition (`kafka-transactions describe-producers`): only idempotent ones appear. */
async function idempotentProducers(topic: string): Promise<{ producerId: string; lastSequence: string }[]> {
  const { stdout } = await run('bash', ['scripts/infra/kafka-tool.sh', 'kafka-transactions', '--bootstrap-server', inject('kafkaBrokers'), 'describe-producers', '--topic', topic, '--partition', '0']);
  // ProducerId ProducerEpoch LatestCoordinatorEpoch LastSequence LastTimestamp CurrentTransactionStartOffset
  return stdout.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((r) => /^\d+$/.test(r[0] ?? '')).map((r) => ({ producerId: r[0]!, lastSequence: r[3]! }));
}

describe('dead-letter writes with KAFKA_ACKS=0', () => {
  it('warns at start what acks 0 gives up for publish, and that dead-letter writes keep acks=all', () => {
    const warnings = plugin.logs.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'WARN' && l.msg.startsWith('acks=0'));
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/acknowledged records may be lost when a broker fails; dead-letter writes still use acks=all$/)]);
  });

  it('writes the dead letter of a Nack without requeue with the idempotent acks=all producer', async () => {
    const topic = name('dlq-acks');
    // A one-partition dead-letter topic, so the producers Kafka tracks are read from one place.
    await call(stream, 'CreateStream', { topic: `${topic}.dlq`, partitions: 1 });
    const { consumer, message } = await deliverOne(topic, Buffer.from('poison'), name('g'));
    expect(await call(queue, 'Nack', { receipts: [message.receipt], requeue: false, reason: 'bad input' })).toMatchObject({ requeued: 0, dead_lettered: 1 });
    consumer.cancel();
    const [dead] = await kcatRead(inject('kafkaBrokers'), `${topic}.dlq`, 0, 0, 1);
    expect(dead?.payload).toBe('poison');
    // An idempotent producer (which Kafka allows only with acks=all) wrote it; an acks=0 producer would not be listed.
    expect(await idempotentProducers(`${topic}.dlq`)).toEqual([{ producerId: expect.stringMatching(/^\d+$/) as string, lastSequence: '0' }]);
  }, 60_000);
});
