import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../../core/errors.ts';
import { ack } from '../../../handlers/ack.ts';
import { nack } from '../../../handlers/nack.ts';
import { testContext } from '../../support/context.ts';
import { countOf, next, nextN, openConsume, queueDeps, rejection, stillPending } from './queue-deps.ts';

const ctx = testContext();

describe('ack handler', () => {
  it('commits a partition only up to its lowest unacknowledged offset: later acks wait for the earlier ones', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 3; i++) q.append(0, `m${i}`);
    const c = await openConsume(q.deps);
    const [a, b, d] = await nextN(c.stream, 3);
    expect(await ack(q.deps, { receipts: [d!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: [] });
    expect(await ack(q.deps, { receipts: [b!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: [] });
    expect(q.groups.last.acked).toEqual([]);
    expect(await ack(q.deps, { receipts: [a!.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=3'] });
    expect(q.groups.last.acked).toEqual(['0=3']);
    expect(q.groups.committedOf('prism-consumers')).toEqual(['0=3']);
    await c.end();
  });

  it('commits each partition on its own', async () => {
    const q = queueDeps({ partitions: 2 });
    q.append(0, 'a');
    q.append(1, 'b');
    const c = await openConsume(q.deps);
    const got = await nextN(c.stream, 2);
    const onOne = got.find((m) => m.partition === 1)!;
    expect(await ack(q.deps, { receipts: [onOne.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/1=1'] });
    expect(q.groups.last.acked).toEqual(['1=1']);
    await c.end();
  });

  it('settles receipts of several subscriptions in one call', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const billing = await openConsume(q.deps, { group: 'billing', subscriber_id: 'b1' });
    const audit = await openConsume(q.deps, { group: 'audit', subscriber_id: 'a1' });
    const [x] = await nextN(billing.stream, 1);
    const [y, z] = await nextN(audit.stream, 2);
    const r = await ack(q.deps, { receipts: [y!.receipt, x!.receipt, z!.receipt] }, ctx);
    expect(r.acknowledged).toBe(3);
    expect(r.committed.sort()).toEqual(['orders/0=1', 'orders/0=2']);
    expect([q.groups.committedOf('billing'), q.groups.committedOf('audit')]).toEqual([['0=1'], ['0=2']]);
    await billing.end();
    await audit.end();
  });

  it('takes a duplicate ack as harmless: nothing acknowledged or committed again', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    expect(await ack(q.deps, { receipts: [m.receipt, m.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
    expect(await ack(q.deps, { receipts: [m.receipt] }, ctx)).toEqual({ acknowledged: 0, committed: [] });
    expect(q.groups.last.acked).toEqual(['0=1']);
    await c.end();
  });

  it('refuses a receipt of a subscription that has ended with FAILED_PRECONDITION naming it, and acknowledges nothing of that call', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const gone = await openConsume(q.deps, { group: 'g1', subscriber_id: 'gone' });
    const live = await openConsume(q.deps, { group: 'g2', subscriber_id: 'live' });
    const old = await next(gone.stream);
    const current = await next(live.stream);
    await gone.end();
    const err = await rejection(ack(q.deps, { receipts: [current.receipt, old.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toBe(`receipts: the subscription ${old.subscription_id} has ended; its unacknowledged messages are redelivered to the group`);
    // Checked before anything is settled: the caller can send the other receipts again.
    expect(q.groups.committedOf('g2')).toEqual(['0=0']);
    expect(await ack(q.deps, { receipts: [current.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
    const never = await rejection(ack(q.deps, { receipts: ['ghost~00000000:1:0:0'] }, ctx));
    expect(isPluginError(never) && [never.code, never.message.includes('ghost~00000000')]).toEqual(['FAILED_PRECONDITION', true]);
    await live.end();
  });

  it('refuses a stale receipt (its partition was revoked) naming it, commits nothing for it, and acknowledges the others', async () => {
    const q = queueDeps({ partitions: 2 });
    q.append(0, 'a');
    q.append(1, 'b');
    const c = await openConsume(q.deps);
    const got = await nextN(c.stream, 2);
    const kept = got.find((m) => m.partition === 0)!;
    const lost = got.find((m) => m.partition === 1)!;
    await q.groups.last.revoke([1]);
    const err = await rejection(ack(q.deps, { receipts: [kept.receipt, lost.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toContain(`receipts ${lost.receipt}: their partitions were reassigned away from this stream`);
    expect((err as Error).message).toContain('(the other 1 receipts were acknowledged)');
    expect(q.groups.last.acked).toEqual(['0=1']);
    // Assigned again, the partition starts over from its committed offset: the message comes again, with a new receipt.
    q.groups.last.assign([1]);
    const again = await next(c.stream);
    expect([again.partition, again.offset, again.receipt === lost.receipt]).toEqual([1, '0', false]);
    const stale = await rejection(ack(q.deps, { receipts: [lost.receipt] }, ctx));
    expect(isPluginError(stale) && stale.code).toBe('FAILED_PRECONDITION');
    await c.end();
  });

  it('settles a message that waits for redelivery: it does not come again', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await nack(q.deps, { receipts: [m.receipt], requeue: true }, ctx);
    expect(await ack(q.deps, { receipts: [m.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
    expect(await stillPending(c.stream.next())).toBe(true);
    await c.end();
  });

  it('answers UNAVAILABLE when the commit fails (the messages may come again), and counts the failure', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    q.groups.last.failCommits = true;
    const err = await rejection(ack(q.deps, { receipts: [m.receipt] }, ctx));
    expect(isPluginError(err) && [err.code, err.retryable]).toEqual(['UNAVAILABLE', false]);
    expect((err as Error).message).toContain('acknowledged, but committing the offsets failed (commit failed: COORDINATOR_NOT_AVAILABLE); the messages may be delivered again');
    expect(await countOf(q.metrics.queueEvents.commitFailures)).toBe(1);
    expect(q.groups.last.acked).toEqual([]);
    await c.end();
  });

  it.each([
    [{}, 'receipts: expected a list of receipts, got nothing'],
    [{ receipts: 'r' }, 'receipts: expected a list of receipts, got "r"'],
    [{ receipts: [] }, 'receipts: expected at least one receipt, got []'],
    [{ receipts: ['w~12345678:1:0:0', 'garbage'] }, 'receipts[1]: expected a receipt from a delivered message, got "garbage"'],
    [{ receipts: Array.from({ length: 10_001 }, () => 'w~12345678:1:0:0') }, 'receipts: expected at most 10000 receipts'],
  ])('refuses %# with INVALID_ARGUMENT naming the field and the value', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(ack(q.deps, request, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
  });
});
