import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { kcatRead } from '../support/kcat.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

// Issue #15's smaller cases, through the gRPC API against the real broker: attempts that survive the consumer dying,
// a Nack whose dead-letter write fails for one receipt only, and a receipt nacked twice.

interface QueueMessage { offset: string; attempt: number; receipt: string; payload: Buffer }

const run = promisify(execFile);
const kafkaTool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));
let plugin: TestPlugin;
let queue: Client;
let streams: Client;
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONSUMER_MAX_RETRIES: '2' });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  streams = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
});
afterAll(async () => {
  queue.close();
  streams.close();
  await plugin.close();
});

async function oneMessageEach(topic: string, payloads: Buffer[]): Promise<void> {
  const { results } = await call<{ results: { success: boolean }[] }>(queue, 'PublishBatch', { messages: payloads.map((payload) => ({ topic, partition: 0, payload })) });
  expect(results.every((r) => r.success)).toBe(true);
}

describe('redelivery and dead letters', () => {
  it('counts deliveries across consumers that die holding the message: the poison message reaches the dead-letter topic', async () => {
    const topic = name('poison');
    const group = name('g');
    await call(streams, 'CreateStream', { topic, partitions: 1 });
    await oneMessageEach(topic, [Buffer.from('poison'), Buffer.from('fine')]);
    const attempts: number[] = [];
    // Each consumer takes the first message and dies without acking (its stream just ends, like a crashed worker).
    for (let round = 0; round < 4; round++) {
      const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: 'worker', max_unacked: 1 });
      const [m] = await s.waitFor(1);
      s.cancel();
      if (m === undefined) throw new Error(`round ${round}: nothing delivered`);
      if (m.payload.toString() === 'fine') {
        attempts.push(-1);
        break;
      }
      attempts.push(m.attempt);
      await sleep(500);
    }
    // max_retries 2: three deliveries of the poison message, then the next consumer gets the next message.
    expect(attempts).toEqual([1, 2, 3, -1]);
    // The dead-letter topic was created on first use with the broker's default partitions.
    const dead = (await Promise.all([0, 1, 2].map((p) => kcatRead(inject('kafkaBrokers'), `${topic}.dlq`, p, 0, 10)))).flat();
    expect(dead.map((r) => r.payload)).toEqual(['poison']);
  });

  it('a Nack whose dead-letter write fails for one receipt settles the others and names the failed one', async () => {
    const topic = name('partial');
    await call(streams, 'CreateStream', { topic, partitions: 1 });
    // The dead-letter topic refuses records over 2,000 bytes: one dead letter of the two fails, the other succeeds.
    await run('bash', [kafkaTool, 'kafka-topics', '--bootstrap-server', inject('kafkaBrokers'), '--create', '--topic', `${topic}.dlq`, '--partitions', '1', '--config', 'max.message.bytes=2000'], { timeout: 60_000 });
    // Random bytes: compression must not shrink the big one under the limit.
    await oneMessageEach(topic, [randomBytes(5_000), Buffer.from('small')]);
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: name('g') });
    const [big, small] = await s.waitFor(2);
    const err = await call(queue, 'Nack', { receipts: [big!.receipt, small!.receipt], requeue: false, reason: 'bad' }).then(() => undefined, (e: ServiceError) => e);
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(err?.details).toContain(big!.receipt);
    expect(err?.details).not.toContain(small!.receipt);
    const dead = await kcatRead(inject('kafkaBrokers'), `${topic}.dlq`, 0, 0, 1);
    expect(dead.map((r) => r.payload)).toEqual(['small']);
    s.cancel();
  });

  it('nacking one receipt twice before it comes back counts one attempt', async () => {
    const topic = name('twice');
    await call(streams, 'CreateStream', { topic, partitions: 1 });
    await oneMessageEach(topic, [Buffer.from('again')]);
    const s = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: name('g') });
    const [m] = await s.waitFor(1);
    await call(queue, 'Nack', { receipts: [m!.receipt], requeue: true });
    const second = await call<{ results: { outcome: string }[] }>(queue, 'Nack', { receipts: [m!.receipt], requeue: true });
    expect(second.results.map((r) => r.outcome)).toEqual(['requeued']);
    await s.waitFor(2);
    await sleep(1_500);
    expect(s.received.map((x) => x.attempt)).toEqual([1, 2]);
    s.cancel();
  });
});
