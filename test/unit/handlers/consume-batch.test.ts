import { describe, expect, it } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import { ackOffsets } from '../../../handlers/ack-offsets.ts';
import { consumeBatch } from '../../../handlers/consume-batch.ts';
import { parseReceipt } from '../../../handlers/queue/function-receipts.ts';
import { testContext } from '../../support/context.ts';
import { queueDeps, rejection } from './queue-deps.ts';

const ctx = testContext();
const payloads = (b: { messages: { payload: Buffer }[] }) => b.messages.map((m) => m.payload.toString());

describe('consume_batch handler', () => {
  it('returns at most max_messages, each with a function receipt ack accepts, and the offsets acknowledging them all commits', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 5; i++) q.append(0, `m${i}`);
    const batch = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 3 }, ctx);
    expect(payloads(batch)).toEqual(['m0', 'm1', 'm2']);
    expect(batch.group).toBe('fn');
    // fn2:group:topic:partition:from:offset; the first from where the group stood (nothing committed: the log start).
    expect(batch.messages.map((m) => m.receipt)).toEqual(['fn2:fn:orders:0:0:0', 'fn2:fn:orders:0:1:1', 'fn2:fn:orders:0:2:2']);
    expect(batch.messages[0]).toMatchObject({ message_id: 'id-m0', topic: 'orders', partition: 0, offset: '0', attempt: 1 });
    expect(batch.next_offsets).toEqual({ 0: '3' });

    expect(await ackOffsets(q.deps, { receipts: batch.messages.map((m) => m.receipt) }, ctx)).toEqual({ acknowledged: 3, committed: ['orders/0=3'] });
    expect(q.groups.committedOf('fn')).toEqual(['0=3']);
    const rest = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 10, max_wait_ms: 50 }, ctx);
    expect(rest.messages.map((m) => m.receipt)).toEqual(['fn2:fn:orders:0:3:3', 'fn2:fn:orders:0:4:4']);
  });

  it('vouches, per partition, from where the group stood; next_offsets covers every partition returned', async () => {
    const q = queueDeps({ partitions: 2 });
    q.append(0, 'a0');
    q.append(0, 'a1');
    for (let i = 0; i < 3; i++) q.append(1, `b${i}`);
    await q.groups.seek('fn', 'orders', { offsets: new Map([[1, '1']]) });
    const batch = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 4 }, ctx);
    expect(batch.messages.map((m) => m.receipt).sort()).toEqual(['fn2:fn:orders:0:0:0', 'fn2:fn:orders:0:1:1', 'fn2:fn:orders:1:1:1', 'fn2:fn:orders:1:2:2']);
    expect(batch.next_offsets).toEqual({ 0: '2', 1: '3' });
    for (const m of batch.messages) expect(parseReceipt(m.receipt)).toMatchObject({ group: 'fn', topic: 'orders', partition: m.partition, offset: BigInt(m.offset) });
    const acked = await ackOffsets(q.deps, { receipts: batch.messages.map((m) => m.receipt) }, ctx);
    expect([acked.acknowledged, acked.committed.sort()]).toEqual([4, ['orders/0=2', 'orders/1=3']]);
  });

  it('vouches across offsets that hold no message (compacted), so acking the record after them commits past them', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 4; i++) q.append(0, `m${i}`);
    q.groups.compacted.add('0:1');
    q.groups.compacted.add('0:2');
    const batch = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 2 }, ctx);
    expect(batch.messages.map((m) => m.receipt)).toEqual(['fn2:fn:orders:0:0:0', 'fn2:fn:orders:0:1:3']);
    expect(batch.next_offsets).toEqual({ 0: '4' });
    expect(await ackOffsets(q.deps, { receipts: [batch.messages[0]!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
    expect(await ackOffsets(q.deps, { receipts: [batch.messages[1]!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=4'] });
  });

  it('takes max_unacked when max_messages is 0, else 100', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 120; i++) q.append(0, `m${i}`);
    expect((await consumeBatch(q.deps, { topic: 'orders', max_unacked: 7 }, ctx)).messages).toHaveLength(7);
    expect((await consumeBatch(q.deps, { topic: 'orders' }, ctx)).messages).toHaveLength(100);
  });

  it('leaves the group before answering: no member stays, no session stays registered, and an ack commits at once', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const batch = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 1 }, ctx);
    expect(q.groups.active('fn')).toEqual([]);
    expect(q.groups.last.closed).toEqual({ leave: true });
    expect(q.sessions.size).toBe(0);
    expect(await ackOffsets(q.deps, { receipts: [batch.messages[0]!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
  });

  it('gives back the same messages until they are acknowledged, counting the attempts of each batch\'s first one', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const first = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 2 }, ctx);
    const again = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 2 }, ctx);
    expect(payloads(again)).toEqual(payloads(first));
    expect(again.messages.map((m) => m.receipt)).toEqual(first.messages.map((m) => m.receipt));
    expect([first.messages[0]!.attempt, again.messages[0]!.attempt]).toEqual([1, 2]);
  });

  it('dead-letters a message no batch acknowledged once it was delivered max_retries + 1 times, and goes on after it', async () => {
    const q = queueDeps({ partitions: 1, consumer: { maxRetries: 1 } });
    q.append(0, 'poison');
    q.append(0, 'fine');
    for (const attempt of [1, 2]) expect((await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 1 }, ctx)).messages[0]).toMatchObject({ offset: '0', attempt });
    const after = await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 1 }, ctx);
    expect(after.messages.map((m) => [m.offset, m.attempt])).toEqual([['1', 1]]);
    expect(q.deadLettered().map((r) => [r.value, r.headers['prism-dlq-attempts']])).toEqual([['poison', '2']]);
    expect(await ackOffsets(q.deps, { receipts: [after.messages[0]!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=2'] });
  });

  it('answers what arrived once max_wait_ms passed: an empty batch names no offsets', async () => {
    const q = queueDeps();
    const started = Date.now();
    expect(await consumeBatch(q.deps, { topic: 'orders', max_wait_ms: 40 }, ctx)).toEqual({ messages: [], group: 'prism-consumers', next_offsets: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(q.groups.active('prism-consumers')).toEqual([]);
  });

  it('stops a second before the deadline however long max_wait_ms is', async () => {
    const q = queueDeps();
    const started = Date.now();
    await consumeBatch(q.deps, { topic: 'orders', max_wait_ms: 60_000 }, testContext({ deadline: Date.now() + 1_150 }));
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('joins as a member of its own per invocation under the host prefix (the configured subscriber id is not used), or as the one named', async () => {
    const q = queueDeps({ consumer: { subscriberId: 'cfg-sub' } });
    await consumeBatch(q.deps, { topic: 'orders', max_wait_ms: 1 }, ctx);
    await consumeBatch(q.deps, { topic: 'orders', max_wait_ms: 1 }, ctx);
    await consumeBatch(q.deps, { topic: 'orders', subscriber_id: 'fn-worker', max_wait_ms: 1 }, ctx);
    const [a, b, named] = q.groups.joined.map((j) => j.instanceId);
    expect(a).toMatch(/^host-1-[0-9a-f]{8}$/);
    expect(b).toMatch(/^host-1-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(named).toBe('fn-worker');
    expect(q.groups.joined.map((j) => j.group)).toEqual(['prism-consumers', 'prism-consumers', 'prism-consumers']);
  });

  it('reads the group\'s offsets before joining, and passes a failure to read them through without joining', async () => {
    const q = queueDeps();
    const failure = new PluginError('UNAVAILABLE', 'coordinator not available');
    q.groups.fail.offsets = failure;
    expect(await rejection(consumeBatch(q.deps, { topic: 'orders', group: 'fn' }, ctx))).toBe(failure);
    expect(q.groups.joined).toEqual([]);
  });

  it('passes a failure to join through, leaving nothing registered', async () => {
    const q = queueDeps();
    const failure = new PluginError('PERMISSION_DENIED', 'not authorized to join group fn');
    q.groups.fail.subscribe = failure;
    expect(await rejection(consumeBatch(q.deps, { topic: 'orders', group: 'fn' }, ctx))).toBe(failure);
    expect(q.groups.offsetsCalls).toEqual([['fn', 'orders']]);
    expect(q.sessions.size).toBe(0);
  });

  it.each([
    [{ topic: 'orders', max_messages: 10_001 }, 'max_messages: expected a number of messages from 1 to 10000 (0 for max_unacked, else 100), got 10001'],
    [{ topic: 'orders', max_messages: -1 }, 'max_messages: expected a number of messages from 1 to 10000 (0 for max_unacked, else 100), got -1'],
    [{ topic: 'orders', max_messages: 2.5 }, 'max_messages: expected a number of messages from 1 to 10000 (0 for max_unacked, else 100), got 2.5'],
    [{ topic: 'orders', max_wait_ms: 900_001 }, 'max_wait_ms: expected milliseconds from 1 to 900000 (0 for 1000), got 900001'],
    [{ topic: 'orders', max_unacked: 10_001 }, 'max_unacked: expected 0 (default) to 10000, got 10001'],
    [{ topic: 'a/b' }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
    [{ topic: 'orders', subscriber_id: 'a b' }, 'subscriber_id: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a b"'],
  ])('refuses %j with INVALID_ARGUMENT naming the field, the value and what is expected; reads and joins nothing', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(consumeBatch(q.deps, request, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect([q.groups.offsetsCalls, q.groups.joined]).toEqual([[], []]);
  });
});

describe('function receipts of consume_batch', () => {
  it('are refused by the gRPC ack, and a gRPC receipt by the function ack (neither is the other\'s)', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const [m] = (await consumeBatch(q.deps, { topic: 'orders', group: 'fn', max_messages: 1 }, ctx)).messages;
    expect(parseReceipt('host-1-0a1b2c3d~12345678:1:0:0')).toBeUndefined();
    const err = await rejection(ackOffsets(q.deps, { receipts: ['host-1-0a1b2c3d~12345678:1:0:0'] }, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect(parseReceipt(m!.receipt)).toEqual({ group: 'fn', topic: 'orders', partition: 0, from: 0n, offset: 0n });
  });

  it.each(['fn2:g/x:orders:0:0:0', 'fn2:g:orders:12345678:0:0', 'fn2:g:orders:0:0:12345678901234567890', 'fn3:g:orders:0:0:0', 'fn2::orders:0:0:0'])('reject %s', (text) => {
    expect(parseReceipt(text)).toBeUndefined();
  });

  it('refuse, committing nothing, a receipt that names a message past the log end (forged, or of a topic since recreated)', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const err = await rejection(ackOffsets(q.deps, { receipts: ['fn2:fn:orders:0:0:0', 'fn2:fn:orders:0:1:1'] }, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain('receipts: expected receipts from consume_batch (partition 0 of orders ends at offset 1), got a receipt of offset 1 in partition 0');
    expect(q.groups.seekCalls).toEqual([]);
  });
});
