import { randomUUID } from 'node:crypto';
import { status, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

// Issue #15's reported cases, black-box through the gRPC API against the real broker: a group that changes must never
// make consume skip a message, and members on different topics must not stall each other.

interface QueueMessage { topic: string; partition: number; offset: string; attempt: number; receipt: string }

const plugins: TestPlugin[] = [];
const clients: Client[] = [];
let queue: Client;
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function plugin(): Promise<{ p: TestPlugin; q: Client }> {
  const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  plugins.push(p);
  const q = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
  clients.push(q);
  return { p, q };
}

beforeAll(async () => {
  queue = (await plugin()).q;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(plugins.map((p) => p.close()));
});

async function topicOf(partitions: number): Promise<string> {
  const topic = name('rb');
  await call(client(plugins[0]!.address, 'prism.interfaces.stream.StreamBasicInterface'), 'CreateStream', { topic, partitions });
  return topic;
}

async function publish(topic: string, n: number, partitions = 1): Promise<void> {
  for (let from = 0; from < n; from += 500) {
    const size = Math.min(500, n - from);
    const { results } = await call<{ results: { success: boolean }[] }>(queue, 'PublishBatch', {
      messages: Array.from({ length: size }, (_, i) => ({ topic, partition: (from + i) % partitions, payload: Buffer.from(`m${from + i}`) })),
    });
    expect(results.every((r) => r.success)).toBe(true);
  }
}

async function committed(topic: string, group: string): Promise<Record<number, string>> {
  const res = await call<{ partitions: { partition: number; committed: string }[] }>(queue, 'GetOffsets', { topic, group });
  return Object.fromEntries(res.partitions.map((p) => [p.partition, p.committed]));
}

const rebalances = async (p: TestPlugin, topic: string): Promise<number> => {
  const text = await (await fetch(`http://${p.address}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('prism_queue_rebalances_total{') && l.includes(`topic="${topic}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('consume across group changes', () => {
  it('a partition kept through a rebalance keeps its receipts: held messages are requeued, redelivered and never skipped', async () => {
    const [topic, other] = [await topicOf(1), await topicOf(1)];
    const group = name('g');
    await publish(topic, 200);
    const first = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, max_unacked: 5 });
    const held = (await first.waitFor(5)).slice(0, 5);
    expect(held.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4']);
    // Another member joins the group on another topic: the group rebalances, this partition stays with `first`.
    const second = new StreamReader<QueueMessage>(queue, 'Consume', { topic: other, group });
    await second.ready;
    await sleep(3_000);
    const nack = await call<{ requeued: number }>(queue, 'Nack', { receipts: held.map((m) => m.receipt), requeue: true, reason: 'held' });
    expect(nack.requeued).toBe(5);
    const seen = new Map<string, number>();
    const until = Date.now() + 40_000;
    let acked = 0;
    while (seen.size < 200 && Date.now() < until) {
      const batch = first.received.splice(0);
      if (batch.length === 0) {
        await sleep(50);
        continue;
      }
      for (const m of batch) if (m.attempt > 1 || Number(m.offset) >= 5) seen.set(m.offset, Math.max(seen.get(m.offset) ?? 0, m.attempt));
      await call(queue, 'Ack', { receipts: batch.filter((m) => m.attempt > 1 || Number(m.offset) >= 5).map((m) => m.receipt) }).catch(() => undefined);
      acked += batch.length;
    }
    expect(acked).toBeGreaterThan(0);
    for (const o of ['0', '1', '2', '3', '4']) expect(seen.get(o), `offset ${o} redelivered`).toBe(2);
    expect(seen.size).toBe(200);
    expect(await committed(topic, group)).toEqual({ 0: '200' });
    first.cancel();
    second.cancel();
  });

  it('one group, two topics: members on each topic get that topic, none stalls', async () => {
    const [a, b] = [await topicOf(1), await topicOf(3)];
    const group = name('g');
    const onA = new StreamReader<QueueMessage>(queue, 'Consume', { topic: a, group });
    await onA.ready;
    const onB = [0, 1, 2].map(() => new StreamReader<QueueMessage>(queue, 'Consume', { topic: b, group }));
    await Promise.all(onB.map((s) => s.ready));
    await sleep(3_000);
    await publish(b, 30, 3);
    await publish(a, 10);
    const deadline = Date.now() + 20_000;
    while ((onA.received.length < 10 || onB.reduce((n, s) => n + s.received.length, 0) < 30) && Date.now() < deadline) await sleep(100);
    expect(onA.received.length).toBe(10);
    expect(onB.reduce((n, s) => n + s.received.length, 0)).toBe(30);
    for (const s of onB) expect(s.received.length).toBeGreaterThan(0);
    for (const s of [onA, ...onB]) s.cancel();
  });

  it('a graceful stop of one plugin (static member, no leave) does not rebalance the other member', async () => {
    const topic = await topicOf(2);
    const group = name('g');
    const { p: p1, q: q1 } = await plugin();
    const { p: p2, q: q2 } = await plugin();
    const s1 = new StreamReader<QueueMessage>(q1, 'Consume', { topic, group, subscriber_id: name('one') });
    await s1.ready;
    const s2 = new StreamReader<QueueMessage>(q2, 'Consume', { topic, group, subscriber_id: name('two') });
    await s2.ready;
    await sleep(4_000);
    const before = await rebalances(p2, topic);
    expect(before).toBeGreaterThan(0);
    await p1.close();
    await sleep(4_000);
    expect(await rebalances(p2, topic)).toBe(before);
    s2.cancel();
    void s1;
  });

  it('an ack for a partition this stream lost is refused as stale and commits nothing', async () => {
    const topic = await topicOf(2);
    const group = name('g');
    await publish(topic, 20, 2);
    const first = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, max_unacked: 20 });
    const got = await first.waitFor(20);
    expect(new Set(got.map((m) => m.partition))).toEqual(new Set([0, 1]));
    const second = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, max_unacked: 1 });
    await second.waitFor(1);
    const moved = second.received[0]!.partition;
    const lost = got.filter((m) => m.partition === moved);
    const err = await call(queue, 'Ack', { receipts: got.map((m) => m.receipt) }).then(() => undefined, (e: ServiceError) => e);
    expect(err?.code).toBe(status.FAILED_PRECONDITION);
    expect(err?.details).toContain(lost[0]!.receipt);
    const offsets = await committed(topic, group);
    expect(offsets[1 - moved]).toBe('10');
    expect(offsets[moved] ?? '').not.toBe('10');
    first.cancel();
    second.cancel();
  });
});
