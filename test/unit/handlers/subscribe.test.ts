import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../../core/errors.ts';
import type { ConsumeDeps } from '../../../handlers/consume.ts';
import { subscribe, unsubscribe, type PubSubMessage } from '../../../handlers/subscribe.ts';
import { testContext } from '../../support/context.ts';
import { abortableContext, next, nextN, queueDeps, rejection } from './queue-deps.ts';

/**
 * The adapter's side of the contract (adapters/grpc/server-stream.ts): it asks for the next message only once the
 * transport accepted the previous one, and on cancellation aborts the signal, asks once more, then returns.
 */
async function openSubscribe(deps: ConsumeDeps, request: Record<string, unknown> = {}) {
  const { abort, ctx } = abortableContext();
  const stream = (await subscribe(deps, { topic: 'orders', subscriber_id: 'alice', ...request }, ctx)) as AsyncGenerator<PubSubMessage>;
  const cancel = async () => {
    abort.abort();
    const last = await stream.next();
    await stream.return(undefined);
    return last;
  };
  return { stream, abort, cancel };
}

describe('subscribe handler', () => {
  it('joins a group of its own (the subscriber id) as that static member, from the configured reset position', async () => {
    const q = queueDeps({ kafka: { autoOffsetReset: 'latest' } });
    const s = await openSubscribe(q.deps);
    expect(q.groups.joined).toEqual([{ topic: 'orders', group: 'alice', instanceId: 'alice', autoOffsetReset: 'latest' }]);
    await s.cancel();
  });

  it('joins the group and start position named in options', async () => {
    const q = queueDeps();
    const s = await openSubscribe(q.deps, { options: { group: 'shared', start: 'latest' } });
    expect(q.groups.joined).toEqual([{ topic: 'orders', group: 'shared', instanceId: 'alice', autoOffsetReset: 'latest' }]);
    await s.cancel();
  });

  it('delivers topic, payload, metadata, message id and timestamp, and nothing to acknowledge with', async () => {
    const q = queueDeps();
    q.append(1, 'hello', { id: 'm-1', headers: { kind: 'order' }, key: 'k', timestamp: 1_700_000_000_456 });
    const s = await openSubscribe(q.deps);
    expect(await next(s.stream)).toStrictEqual({ topic: 'orders', payload: Buffer.from('hello'), metadata: { kind: 'order' }, message_id: 'm-1', timestamp: 1_700_000_000_456 });
    await s.cancel();
  });

  it('gives every subscriber every message (a group each)', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const alice = await openSubscribe(q.deps, { subscriber_id: 'alice' });
    const bob = await openSubscribe(q.deps, { subscriber_id: 'bob' });
    expect([(await next(alice.stream)).message_id, (await next(bob.stream)).message_id]).toEqual(['id-a', 'id-a']);
    await alice.cancel();
    await bob.cancel();
  });

  it('commits a message when the stream asks for the next one, not when it is handed over', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const s = await openSubscribe(q.deps);
    expect((await next(s.stream)).message_id).toBe('id-a');
    expect(q.groups.last.acked).toEqual([]);
    expect((await next(s.stream)).message_id).toBe('id-b');
    expect(q.groups.last.acked).toEqual(['0=1']);
    await s.cancel();
  });

  it('never waits for acknowledgements: past max_unacked it goes on delivering as asked', async () => {
    const q = queueDeps({ partitions: 1, consumer: { maxUnacked: 1 } });
    for (let i = 0; i < 3; i++) q.append(0, `m${i}`);
    const s = await openSubscribe(q.deps);
    expect((await nextN(s.stream, 3)).map((m) => m.message_id)).toEqual(['id-m0', 'id-m1', 'id-m2']);
    await s.cancel();
  });

  it('repeats nothing after a clean end: the stream leaves the group, and re-subscribing resumes after the last message handed over', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const s = await openSubscribe(q.deps);
    await nextN(s.stream, 2);
    expect(await s.cancel()).toEqual({ done: true, value: undefined });
    expect(q.groups.last.acked).toEqual(['0=1', '0=2']);
    expect(q.groups.last.closed).toEqual({ leave: true });
    expect(q.sessions.size).toBe(0);
    q.append(0, 'c');
    const again = await openSubscribe(q.deps);
    expect((await next(again.stream)).message_id).toBe('id-c');
    await again.cancel();
  });

  it('delivers again a message the transport never accepted (the stream was returned at it)', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const s = await openSubscribe(q.deps);
    await next(s.stream);
    await s.stream.return(undefined);
    expect(q.groups.last.acked).toEqual([]);
    const again = await openSubscribe(q.deps);
    expect((await next(again.stream)).message_id).toBe('id-a');
    await again.cancel();
  });

  it('ends the stream with UNAVAILABLE when a commit fails; re-subscribing delivers that message again', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const s = await openSubscribe(q.deps);
    await next(s.stream);
    q.groups.last.failCommits = true;
    const err = await rejection(s.stream.next());
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(q.sessions.size).toBe(0);
    const again = await openSubscribe(q.deps);
    expect((await next(again.stream)).message_id).toBe('id-a');
    await again.cancel();
  });

  // Suspected bug: a rebalance (another member joining a shared options.group, a broker moving partitions) that
  // revokes a partition between handing a message over and the next request makes the commit's receipt stale;
  // session.ack throws FAILED_PRECONDITION ("reassigned away from this stream") and the whole pub/sub stream ends
  // with that error. The doc comment promises only that such a message "comes again", not that the stream dies;
  // a subscriber has no receipt to act on, so subscribe should let the new owner redeliver it and carry on.
  it.fails('keeps the stream going when the partition of the message just handed over is revoked before the next request', async () => {
    const q = queueDeps({ partitions: 2 });
    q.append(0, 'a');
    const s = await openSubscribe(q.deps);
    expect((await next(s.stream)).message_id).toBe('id-a');
    await q.groups.last.revoke([0]);
    q.append(1, 'b');
    try {
      expect((await next(s.stream)).message_id).toBe('id-b');
    } finally {
      await s.cancel().catch(() => undefined);
    }
  });

  // Suspected bug: a subscriber's group defaults to its id, and openSession ends every session of the same subscriber
  // id and group whatever its topic, so subscribing to a second topic silently completes the subscription to the
  // first. Unsubscribe (which filters by topic) expects one subscriber on several topics; the README says nothing of
  // this limit.
  it.fails('lets one subscriber id subscribe to two topics at once', async () => {
    const q = queueDeps({ partitions: 1 });
    q.log.createTopic('audit', 1);
    const orders = await openSubscribe(q.deps);
    const audit = await openSubscribe(q.deps, { topic: 'audit' });
    try {
      q.append(0, 'a');
      expect((await next(orders.stream)).message_id).toBe('id-a');
    } finally {
      await orders.cancel().catch(() => undefined);
      await audit.cancel();
    }
  });

  it.each([
    [{ topic: 'orders', subscriber_id: '' }, 'subscriber_id: expected 1–200 characters from a-z A-Z 0-9 . _ -, got ""'],
    [{ topic: 'a/b', subscriber_id: 'alice' }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
    [{ topic: 'orders', subscriber_id: 'alice', options: { start: 'middle' } }, 'options.start: expected "earliest" or "latest", got "middle"'],
    [{ topic: 'orders', subscriber_id: 'alice', options: { group: 'a b' } }, 'options.group: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a b"'],
  ])('refuses %j with INVALID_ARGUMENT naming the field, the value and what is expected; joins nothing', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(subscribe(q.deps, request, testContext()));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect(q.groups.joined).toEqual([]);
  });

  // Suspected bug (message only): options is a map<string, string> on the wire, so an unknown option name is easy to
  // send; the strict object answers "options: expected a map of options", which it is. The answer should name the
  // unknown option and the ones there are (group, start).
  it.fails('names an unknown option and the known ones', async () => {
    const q = queueDeps();
    const err = await rejection(subscribe(q.deps, { topic: 'orders', subscriber_id: 'alice', options: { groupp: 'x' } }, testContext()));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).not.toContain('expected a map of options');
    expect((err as Error).message).toMatch(/groupp/);
    expect((err as Error).message).toMatch(/group.*start/);
  });
});

describe('unsubscribe handler', () => {
  it('ends the subscriber\'s streams of the topic normally and leaves the group; streams of other topics stay', async () => {
    const q = queueDeps();
    q.log.createTopic('audit', 1);
    const orders = await openSubscribe(q.deps);
    // A group of its own for the second topic: under the same group it would be the same static member (see below).
    const audit = await openSubscribe(q.deps, { topic: 'audit', options: { group: 'alice-audit' } });
    const waiting = orders.stream.next();
    expect(await unsubscribe(q.deps, { topic: 'orders', subscriber_id: 'alice' }, testContext())).toEqual({ success: true, error: '' });
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(q.groups.members.map((m) => [m.options.topic, m.sub.closed])).toEqual([['orders', { leave: true }], ['audit', undefined]]);
    expect(q.sessions.bySubscriber('alice').map((s) => s.options.topic)).toEqual(['audit']);
    await audit.cancel();
  });

  it('says so when the subscriber has no subscription to the topic', async () => {
    const q = queueDeps();
    expect(await unsubscribe(q.deps, { topic: 'orders', subscriber_id: 'nobody' }, testContext())).toEqual({ success: true, error: 'no subscription of nobody to orders' });
  });

  it('refuses a bad subscriber id with INVALID_ARGUMENT', async () => {
    const err = await rejection(unsubscribe(queueDeps().deps, { topic: 'orders', subscriber_id: 'a:b' }, testContext()));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain('subscriber_id: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a:b"');
  });
});
