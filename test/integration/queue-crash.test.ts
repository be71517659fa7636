import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';

interface QueueMessage { message_id: string; partition: number; offset: string; receipt: string }

const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

async function publishMany(address: string, topic: string, n: number): Promise<string[]> {
  const c = client(address, 'prism.interfaces.queue.QueueBasicInterface');
  const ids: string[] = [];
  for (let start = 0; start < n; start += 1_000) {
    const count = Math.min(1_000, n - start);
    const { results } = await call<{ results: { success: boolean; result: { message_id: string } }[] }>(c, 'PublishBatch', {
      messages: Array.from({ length: count }, (_, i) => ({ topic, payload: Buffer.alloc(100, (start + i) % 256) })),
    }, { deadlineMs: 30_000 });
    expect(results.every((r) => r.success)).toBe(true);
    ids.push(...results.map((r) => r.result.message_id));
  }
  c.close();
  return ids;
}

/** Consumes and acknowledges in delivery order, in batches; records what was delivered and what was acked. */
function consumeAndAck(p: PluginProcess, request: object, delivered: string[], acked: Set<string>, batch = 100) {
  const c = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
  let pending: QueueMessage[] = [];
  let chain = Promise.resolve();
  const stream = new StreamReader<QueueMessage>(c, 'Consume', request, (m) => {
    delivered.push(m.message_id);
    pending.push(m);
    if (pending.length >= batch) {
      const these = pending;
      pending = [];
      chain = chain.then(async () => {
        await call(c, 'Ack', { receipts: these.map((x) => x.receipt) });
        // Counted as acknowledged only once the plugin answered the Ack.
        for (const x of these) acked.add(x.message_id);
      }).catch(() => undefined);
    }
  });
  return { stream, close: () => c.close(), flush: async () => {
    const these = pending;
    pending = [];
    await chain;
    if (these.length > 0) {
      await call(c, 'Ack', { receipts: these.map((x) => x.receipt) });
      for (const x of these) acked.add(x.message_id);
    }
  } };
}

const until = async (ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};

describe('at-least-once across plugin crashes (plugin as its own process)', () => {
  it('SIGKILL mid-stream: every message delivered at least once, nothing acked before the kill delivered again', async () => {
    const topic = name('crash');
    const group = name('g');
    const env = { KAFKA_BROKERS: inject('kafkaBrokers') };
    const first = await startPluginProcess(env);
    const ids = await publishMany(first.address, topic, 10_000);

    const before: string[] = [];
    const ackedBefore = new Set<string>();
    const a = consumeAndAck(first, { topic, group, subscriber_id: 'crash-worker', max_unacked: 500 }, before, ackedBefore);
    await until(() => ackedBefore.size >= 3_000, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    a.close();
    const ackedAtKill = new Set(ackedBefore);
    expect(ackedAtKill.size).toBeGreaterThanOrEqual(3_000);

    const second = await startPluginProcess(env);
    try {
      const after: string[] = [];
      const ackedAfter = new Set<string>();
      const b = consumeAndAck(second, { topic, group, subscriber_id: 'crash-worker', max_unacked: 500 }, after, ackedAfter);
      const all = new Set(ids);
      const seen = new Set(before);
      await until(() => {
        for (const id of after) seen.add(id);
        return [...all].every((id) => seen.has(id));
      }, 60_000);
      await b.flush();
      b.stream.cancel();
      b.close();

      const redeliveredAcked = after.filter((id) => ackedAtKill.has(id));
      const delivered = new Set([...before, ...after]);
      const duplicates = before.length + after.length - delivered.size;
      console.log(`crash test: sent=${ids.length} acked_before_kill=${ackedAtKill.size} delivered=${delivered.size} duplicates=${duplicates} lost=${ids.filter((id) => !delivered.has(id)).length} acked_then_redelivered=${redeliveredAcked.length}`);
      expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
      expect(redeliveredAcked).toEqual([]);
    } finally {
      second.child.kill('SIGKILL');
    }
  }, 180_000);

  it('two plugin processes split a group; when one is killed the other receives the rest, nothing missing', async () => {
    const topic = name('failover');
    const group = name('g');
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONSUMER_SESSION_TIMEOUT_MS: '6000' };
    const [pa, pb] = await Promise.all([startPluginProcess(env), startPluginProcess(env)]);
    try {
      await publishMany(pa.address, topic, 1); // creates the topic with the broker's 3 partitions
      const gotA: string[] = [];
      const gotB: string[] = [];
      const a = consumeAndAck(pa, { topic, group, subscriber_id: 'member-a' }, gotA, new Set(), 1);
      const b = consumeAndAck(pb, { topic, group, subscriber_id: 'member-b' }, gotB, new Set(), 1);
      await Promise.all([a.stream.ready, b.stream.ready]);
      await until(() => gotA.length + gotB.length >= 1, 20_000);
      // Let the group settle with both members before publishing the rest.
      await new Promise((r) => setTimeout(r, 5_000));
      const firstHalf = await publishMany(pa.address, topic, 300);
      await until(() => gotA.length > 0 && gotB.length > 0 && new Set([...gotA, ...gotB]).size >= 301, 20_000);
      expect(gotA.length).toBeGreaterThan(0);
      expect(gotB.length).toBeGreaterThan(0);

      pa.child.kill('SIGKILL');
      await pa.exited;
      a.close();
      const secondHalf = await publishMany(pb.address, topic, 300);
      const want = [...firstHalf, ...secondHalf];
      await until(() => want.every((id) => gotA.includes(id) || gotB.includes(id)), 40_000);
      const missing = want.filter((id) => !gotA.includes(id) && !gotB.includes(id));
      console.log(`failover test: sent=${want.length + 1} member_a=${gotA.length} member_b=${gotB.length} missing=${missing.length}`);
      expect(missing).toEqual([]);
      b.stream.cancel();
      b.close();
    } finally {
      pa.child.kill('SIGKILL');
      pb.child.kill('SIGKILL');
    }
  }, 120_000);
});
