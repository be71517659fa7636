import { describe, expect, it, vi } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import { parseReceipt } from '../../../core/queue/receipt.ts';
import { ack } from '../../../handlers/ack.ts';
import { consume } from '../../../handlers/consume.ts';
import { messageSchema, toRecord } from '../../../handlers/queue/message-input.ts';
import { testContext } from '../../support/context.ts';
import { countOf, next, nextN, openConsume, queueDeps, rejection, stillPending } from './queue-deps.ts';

describe('consume handler', () => {
  it.each([
    [{}, 'topic: expected a topic name, got nothing'],
    [{ topic: 'a/b' }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
    [{ topic: 'orders', group: 'a b' }, 'group: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a b"'],
    [{ topic: 'orders', subscriber_id: 'x'.repeat(201) }, 'subscriber_id: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "xxx'],
    [{ topic: 'orders', max_unacked: 10_001 }, 'max_unacked: expected 0 (default) to 10000, got 10001'],
    [{ topic: 'orders', max_unacked: -1 }, 'max_unacked: expected 0 (default) to 10000, got -1'],
    [{ topic: 'orders', max_unacked: 1.5 }, 'max_unacked: expected a whole number, got 1.5'],
    [{ topic: 'orders', max_unacked: '5' }, 'max_unacked: expected a number of messages, got "5"'],
  ])('refuses %j with INVALID_ARGUMENT naming the field, the value and what is expected; joins nothing', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(consume(q.deps, request, testContext()));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect(q.groups.joined).toEqual([]);
    expect(q.sessions.size).toBe(0);
  });

  it('joins the requested group as a static member under the subscriber id, from the configured reset position', async () => {
    const q = queueDeps({ kafka: { autoOffsetReset: 'latest' }, consumer: { maxRetries: 5 } });
    const c = await openConsume(q.deps, { group: 'billing', subscriber_id: 'worker-7' });
    expect(q.groups.joined).toEqual([{ topic: 'orders', group: 'billing', instanceId: 'worker-7', autoOffsetReset: 'latest' }]);
    const [session, ...others] = q.sessions.bySubscriber('worker-7', 'billing');
    expect(others).toEqual([]);
    expect(session!.options).toMatchObject({ topic: 'orders', group: 'billing', maxUnacked: 100, maxAttempts: 6, deadLetterTopic: 'orders.dlq' });
    expect(session!.options.id).toMatch(/^worker-7~[0-9a-f]{8}$/);
    await c.end();
  });

  it('reads an empty group or subscriber id as none: the configured ones, else a member id from the host prefix', async () => {
    const configured = queueDeps({ kafka: { consumerGroup: 'cfg-group' }, consumer: { subscriberId: 'cfg-sub' } });
    const a = await openConsume(configured.deps, { group: '', subscriber_id: '' });
    expect(configured.groups.joined[0]).toMatchObject({ group: 'cfg-group', instanceId: 'cfg-sub' });
    await a.end();

    const bare = queueDeps();
    const b = await openConsume(bare.deps, { subscriber_id: undefined });
    const c = await openConsume(bare.deps, { subscriber_id: undefined });
    const [first, second] = bare.groups.joined.map((j) => j.instanceId);
    expect(bare.groups.joined.map((j) => j.group)).toEqual(['prism-consumers', 'prism-consumers']);
    expect(first).toMatch(/^host-1-[0-9a-f]{8}$/);
    expect(second).toMatch(/^host-1-[0-9a-f]{8}$/);
    expect(first).not.toBe(second);
    await b.end();
    await c.end();
  });

  it('delivers a message with its id, metadata, key, payload, position and timestamp, attempt 1 and a receipt ack accepts', async () => {
    const q = queueDeps();
    q.append(1, 'hello', { id: 'm-1', headers: { kind: 'order' }, key: 'k1', timestamp: 1_700_000_000_123 });
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    const [session] = q.sessions.bySubscriber('worker-1');
    expect(m).toEqual({
      message_id: 'm-1', topic: 'orders', partition: 1, offset: '0', payload: Buffer.from('hello'), metadata: { kind: 'order' }, key: Buffer.from('k1'),
      timestamp: 1_700_000_000_123, attempt: 1, receipt: m.receipt, subscription_id: session!.options.id,
    });
    expect(parseReceipt(m.receipt)).toMatchObject({ sessionId: session!.options.id, partition: 1, offset: '0' });
    expect(await ack(q.deps, { receipts: [m.receipt] }, testContext())).toEqual({ acknowledged: 1, committed: ['orders/1=1'] });
    expect(await countOf(q.metrics.messagesConsumed)).toBe(1);
    await c.end();
  });

  it('names a message without an id header by topic/partition/offset, and gives an absent key as empty bytes', async () => {
    const q = queueDeps();
    q.append(2, 'x', { id: '' });
    const c = await openConsume(q.deps);
    expect(await next(c.stream)).toMatchObject({ message_id: 'orders/2/0', key: Buffer.alloc(0), metadata: {} });
    await c.end();
  });

  it('gives back what a publisher attached: its message id, and its metadata without the id header', async () => {
    const q = queueDeps();
    const { record } = toRecord(messageSchema(100).parse({ topic: 'orders', payload: Buffer.from('p'), metadata: { a: '1', 'prism-message-id': 'mid-9' }, partition: 0 }));
    q.log.append('orders', record.partition!, { value: record.value, key: record.key, headers: record.headers, timestamp: 5 });
    const c = await openConsume(q.deps);
    expect(await next(c.stream)).toMatchObject({ message_id: 'mid-9', metadata: { a: '1' }, payload: Buffer.from('p') });
    await c.end();
  });

  it('has at most max_unacked messages out, drops none, and delivers the next one when an ack frees the window', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 4; i++) q.append(0, `m${i}`);
    const c = await openConsume(q.deps, { max_unacked: 2 });
    const [a, b] = await nextN(c.stream, 2);
    const third = c.stream.next();
    expect(await stillPending(third)).toBe(true);
    await ack(q.deps, { receipts: [a!.receipt] }, testContext());
    expect((await third).value).toMatchObject({ offset: '2' });
    const fourth = c.stream.next();
    expect(await stillPending(fourth)).toBe(true);
    await ack(q.deps, { receipts: [b!.receipt] }, testContext());
    expect((await fourth).value).toMatchObject({ offset: '3' });
    await c.end();
  });

  it('takes the configured max_unacked when the request says 0', async () => {
    const q = queueDeps({ partitions: 1, consumer: { maxUnacked: 1 } });
    q.append(0, 'a');
    q.append(0, 'b');
    const c = await openConsume(q.deps, { max_unacked: 0 });
    await next(c.stream);
    expect(await stillPending(c.stream.next())).toBe(true);
    await c.end();
  });

  it('ends cleanly when the signal aborts: the session leaves the registry and the group, and its receipts are refused', async () => {
    const q = queueDeps();
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    const waiting = c.stream.next();
    c.abort.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(q.sessions.size).toBe(0);
    expect(q.sessions.get(m.subscription_id)).toBeUndefined();
    expect(q.groups.last.closed).toEqual({ leave: true });
    const err = await rejection(ack(q.deps, { receipts: [m.receipt] }, testContext()));
    expect(isPluginError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toContain(`the subscription ${m.subscription_id} has ended`);
  });

  it('keeps the group membership when a stream ends while the process drains (static membership)', async () => {
    const q = queueDeps();
    const c = await openConsume(q.deps);
    q.sessions.keepMembership();
    await c.end();
    expect(q.groups.last.closed).toEqual({ leave: false });
    expect(q.sessions.size).toBe(0);
  });

  it('releases the membership when the caller never reads the stream', async () => {
    const q = queueDeps();
    const c = await openConsume(q.deps);
    expect(q.sessions.size).toBe(1);
    await c.stream.return(undefined);
    expect(q.sessions.size).toBe(0);
    expect(q.groups.last.closed).toEqual({ leave: true });
  });

  it('ends an earlier stream of the same subscriber id and group first, without leaving (its partitions pass on); other groups keep theirs', async () => {
    const q = queueDeps();
    const old = await openConsume(q.deps, { subscriber_id: 'w' });
    const elsewhere = await openConsume(q.deps, { subscriber_id: 'w', group: 'other' });
    const waiting = old.stream.next();
    const fresh = await openConsume(q.deps, { subscriber_id: 'w' });
    expect((await waiting).done).toBe(true);
    expect(q.groups.members.map((m) => [m.options.group, m.sub.closed])).toEqual([['prism-consumers', { leave: false }], ['other', undefined], ['prism-consumers', undefined]]);
    expect(q.sessions.bySubscriber('w').map((s) => s.options.group)).toEqual(['other', 'prism-consumers']);
    q.append(0, 'a');
    expect(await next(fresh.stream)).toMatchObject({ offset: '0' });
    await fresh.end();
    await elsewhere.end();
  });

  it('counts attempts across streams (commit metadata) and dead-letters, instead of delivering, a message past max_retries + 1', async () => {
    const q = queueDeps({ partitions: 1, consumer: { maxRetries: 2 } });
    q.append(0, 'poison');
    q.append(0, 'fine');
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A consumer that crashes on the message: it never acks, and its stream ends.
      const c = await openConsume(q.deps, { max_unacked: 1 });
      const m = await next(c.stream);
      expect(m.offset).toBe('0');
      attempts.push(m.attempt);
      await c.end();
    }
    expect(attempts).toEqual([1, 2, 3]);
    const c = await openConsume(q.deps, { max_unacked: 1 });
    expect(await next(c.stream)).toMatchObject({ offset: '1', attempt: 1 });
    expect(q.deadLettered()).toMatchObject([{ value: 'poison', headers: { 'prism-dlq-attempts': '3', 'prism-dlq-source': 'orders/0/0' } }]);
    expect(q.groups.committedOf('prism-consumers')).toEqual(['0=1']);
    await c.end();
  });

  it('ends the stream with a fetch failure that is not transient, releasing the membership', async () => {
    const q = queueDeps();
    const c = await openConsume(q.deps);
    q.groups.last.fetch = () => Promise.reject(new PluginError('PERMISSION_DENIED', 'not authorized to read orders'));
    const err = await rejection(c.stream.next());
    expect(isPluginError(err) && [err.code, err.message]).toEqual(['PERMISSION_DENIED', 'not authorized to read orders']);
    expect(q.sessions.size).toBe(0);
    expect(q.groups.last.closed).toEqual({ leave: true });
  });

  it('passes a failure to join the group through, registering nothing', async () => {
    const q = queueDeps();
    const failure = new PluginError('UNAVAILABLE', 'group coordinator not available');
    q.groups.fail.subscribe = failure;
    expect(await rejection(consume(q.deps, { topic: 'orders' }, testContext()))).toBe(failure);
    expect(q.sessions.size).toBe(0);
  });

  it('tells the open subscriptions (lag and unacked metrics) about the session', async () => {
    const q = queueDeps();
    const add = vi.fn();
    const c = await openConsume({ ...q.deps, subscriptions: { add } });
    const [session] = q.sessions.bySubscriber('worker-1');
    expect(add).toHaveBeenCalledExactlyOnceWith(session);
    await c.end();
  });
});
