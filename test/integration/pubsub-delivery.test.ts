import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

interface PsMessage { metadata: Record<string, string> }
interface Offsets { partitions: { partition: number; committed: string }[] }

const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
let plugin: TestPlugin;
let queue: Client;
let stream: Client;
let pubsub: Client;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  pubsub = client(plugin.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
});
afterAll(async () => {
  for (const c of [queue, stream, pubsub]) c.close();
  await plugin.close();
});

/** A one-partition topic with `n` messages whose metadata `sequence` is their offset. */
async function topicWith(n: number): Promise<string> {
  const topic = name('ps-delivery');
  await call(stream, 'CreateStream', { topic, partitions: 1 });
  for (let from = 0; from < n; from += 500) {
    const messages = Array.from({ length: Math.min(500, n - from) }, (_, i) => ({ topic, payload: Buffer.from(`m${from + i}`), metadata: { sequence: String(from + i) } }));
    await call(queue, 'PublishBatch', { messages });
  }
  return topic;
}

/** A TCP relay to the plugin, so a test can destroy a client's connection the way a crashed client would. */
async function relay(): Promise<{ address: string; destroy(): void; server: Server }> {
  const sockets: Socket[] = [];
  const [host, port] = plugin.address.split(':');
  const server = createServer((down) => {
    const up = connect(Number(port), host);
    sockets.push(down, up);
    down.pipe(up).on('error', () => undefined);
    up.pipe(down).on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, server, destroy: () => sockets.forEach((s) => s.destroy()) };
}

const sequences = (ms: PsMessage[]) => ms.map((m) => Number(m.metadata.sequence));
const committed = async (topic: string, group: string) => Number((await call<Offsets>(queue, 'GetOffsets', { topic, group })).partitions[0]!.committed);

/** The committed offset once the server has noticed the lost connection (its last commit lands just after). */
async function settledCommit(topic: string, group: string): Promise<number> {
  let last = await committed(topic, group);
  for (let same = 0; same < 3; ) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await committed(topic, group);
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

describe('Subscribe: a message is committed once it is handed to the connection', () => {
  it('after a clean cancel, re-subscribing under the same id delivers nothing twice', async () => {
    const topic = await topicWith(20);
    const subscriber = name('s');
    const first = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: subscriber, options: { start: 'earliest' } });
    expect(sequences(await first.waitFor(20))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    first.cancel();

    const again = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: subscriber, options: { start: 'earliest' } });
    await again.ready;
    await call(queue, 'Publish', { topic, payload: Buffer.from('next'), metadata: { sequence: '20' } });
    // The first message after re-subscribing is the new one: the last one read before the cancel is not repeated.
    expect(sequences(await again.waitFor(1))).toEqual([20]);
    again.cancel();
  }, 60_000);

  it('when a client that read k messages vanishes, delivery resumes at the committed offset, which is at least k', async () => {
    const n = 3_000;
    const k = 5;
    const topic = await topicWith(n);
    const subscriber = name('s');
    const proxy = await relay();
    const vanishing = client(proxy.address, 'prism.interfaces.pubsub.PubSubBasicInterface');
    try {
      const read: PsMessage[] = [];
      const live = (vanishing as unknown as { Subscribe(req: object): NodeJS.ReadableStream }).Subscribe({ topic, subscriber_id: subscriber, options: { start: 'earliest' } });
      live.on('error', () => undefined);
      await new Promise<void>((resolve) => live.on('data', (m: PsMessage) => {
        if (read.length >= k) return;
        read.push(m);
        // The application stops reading: grpc-js stops taking data off the connection, HTTP/2 flow control holds the server.
        if (read.length === k) {
          live.pause();
          resolve();
        }
      }));
      // Let the server fill what the connection can hold before the client dies.
      await new Promise((r) => setTimeout(r, 1_000));
      proxy.destroy();
    } finally {
      vanishing.close();
      proxy.server.close();
    }
    const at = await settledCommit(topic, subscriber);

    const again = new StreamReader<PsMessage>(pubsub, 'Subscribe', { topic, subscriber_id: subscriber, options: { start: 'earliest' } });
    const [resumed] = sequences(await again.waitFor(1));
    again.cancel();
    // Redelivery starts exactly at the committed offset: what was handed over beyond the k read is the loss window.
    expect(resumed).toBe(at);
    expect(at).toBeGreaterThanOrEqual(k);
    expect(at).toBeLessThan(n);
  }, 90_000);
});
