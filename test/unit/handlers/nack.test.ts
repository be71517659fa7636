import { describe, expect, it } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import type { ProducerPort } from '../../../core/kafka/producer-port.ts';
import { ack } from '../../../handlers/ack.ts';
import { nack } from '../../../handlers/nack.ts';
import { testContext } from '../../support/context.ts';
import { countOf, next, nextN, openConsume, queueDeps, rejection, stillPending } from './queue-deps.ts';

const ctx = testContext();

/** The deps' dead-letter producer, holding every produce call until `release()` (FakeProducer answers at once). */
function gated(inner: ProducerPort) {
  const gate = Promise.withResolvers<void>();
  const producer: ProducerPort = {
    produce: async (records, options) => {
      await gate.promise;
      return inner.produce(records, options);
    },
    pending: () => inner.pending(),
    close: () => inner.close(),
  };
  return { producer, release: () => gate.resolve() };
}

describe('nack handler', () => {
  it('with requeue delivers the message again after the backoff, with attempt + 1 and the same receipt; nothing is committed', async () => {
    const q = queueDeps({ partitions: 1, consumer: { initialBackoffMs: 60, maxBackoffMs: 60 } });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const first = await next(c.stream);
    const started = Date.now();
    expect(await nack(q.deps, { receipts: [first.receipt], requeue: true }, ctx)).toEqual({
      requeued: 1, dead_lettered: 0, results: [{ receipt: first.receipt, outcome: 'requeued', error: '' }],
    });
    const again = await next(c.stream);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(again).toMatchObject({ offset: '0', attempt: 2, receipt: first.receipt, message_id: first.message_id });
    expect(q.groups.last.acked).toEqual([]);
    expect(await countOf(q.metrics.queueEvents.redelivered)).toBe(1);
    await c.end();
  });

  it('counts one attempt for a message nacked twice before it comes back, and delivers it once', async () => {
    const q = queueDeps({ partitions: 1, consumer: { initialBackoffMs: 20, maxBackoffMs: 20 } });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await nack(q.deps, { receipts: [m.receipt], requeue: true }, ctx);
    expect((await nack(q.deps, { receipts: [m.receipt], requeue: true }, ctx)).results).toEqual([{ receipt: m.receipt, outcome: 'requeued', error: '' }]);
    expect(await next(c.stream)).toMatchObject({ offset: '0', attempt: 2 });
    expect(await stillPending(c.stream.next())).toBe(true);
    await c.end();
  });

  it('past max_retries + 1 deliveries dead-letters a requeued message with its key, headers, reason, attempts and source, then commits', async () => {
    const q = queueDeps({ partitions: 1, consumer: { maxRetries: 1 } });
    q.append(0, 'a', { key: 'k', headers: { kind: 'order' } });
    q.append(0, 'b');
    const c = await openConsume(q.deps, { max_unacked: 1 });
    const d1 = await next(c.stream);
    await nack(q.deps, { receipts: [d1.receipt], requeue: true, reason: 'bad payload' }, ctx);
    const d2 = await next(c.stream);
    expect(d2).toMatchObject({ offset: '0', attempt: 2 });
    expect(await nack(q.deps, { receipts: [d2.receipt], requeue: true, reason: 'bad payload' }, ctx)).toEqual({
      requeued: 0, dead_lettered: 1, results: [{ receipt: d2.receipt, outcome: 'dead_lettered', error: '' }],
    });
    expect(q.deadLetters.calls.map((records) => records.map((r) => r.topic))).toEqual([['orders.dlq']]);
    expect(q.deadLettered()).toEqual([{
      value: 'a', key: 'k',
      headers: { 'prism-message-id': 'id-a', kind: 'order', 'prism-dlq-reason': 'attempts exhausted (2): bad payload', 'prism-dlq-attempts': '2', 'prism-dlq-source': 'orders/0/0' },
    }]);
    expect(q.groups.last.acked).toEqual(['0=1']);
    expect(await countOf(q.metrics.queueEvents.deadLettered)).toBe(1);
    // Settled: the window is free and the next message comes, not the dead-lettered one.
    expect(await next(c.stream)).toMatchObject({ offset: '1', attempt: 1 });
    await c.end();
  });

  it('without requeue dead-letters at once, with the reason given or "rejected by the consumer"', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const c = await openConsume(q.deps);
    const [a, b] = await nextN(c.stream, 2);
    expect(await nack(q.deps, { receipts: [a!.receipt], reason: 'schema mismatch' }, ctx)).toMatchObject({ requeued: 0, dead_lettered: 1 });
    expect(await nack(q.deps, { receipts: [b!.receipt], reason: '' }, ctx)).toMatchObject({ requeued: 0, dead_lettered: 1 });
    expect(q.deadLettered().map((r) => [r.value, r.headers['prism-dlq-reason'], r.headers['prism-dlq-attempts']])).toEqual([['a', 'schema mismatch', '1'], ['b', 'rejected by the consumer', '1']]);
    expect(q.groups.last.acked).toEqual(['0=1', '0=2']);
    await c.end();
  });

  it('writes to the configured dead-letter topic', async () => {
    const q = queueDeps({ partitions: 1, consumer: { deadLetterTopic: 'orders-failed' } });
    q.log.createTopic('orders-failed', 1);
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await nack(q.deps, { receipts: [m.receipt] }, ctx);
    expect(q.log.get('orders-failed').partitions[0]!.map((r) => r.value.toString())).toEqual(['a']);
    expect(q.deadLettered()).toEqual([]);
    await c.end();
  });

  it('commits a dead-lettered message only once the dead-letter topic acknowledged its copy', async () => {
    const q = queueDeps({ partitions: 1 });
    const gate = gated(q.deadLetters);
    const deps = { ...q.deps, deadLetters: gate.producer };
    q.append(0, 'a');
    const c = await openConsume(deps);
    const m = await next(c.stream);
    const answer = nack(deps, { receipts: [m.receipt] }, ctx);
    expect(await stillPending(answer)).toBe(true);
    expect(q.groups.last.acked).toEqual([]);
    gate.release();
    expect(await answer).toMatchObject({ dead_lettered: 1 });
    expect(q.groups.last.acked).toEqual(['0=1']);
    await c.end();
  });

  it('fails with UNAVAILABLE naming the receipt when the dead-letter write fails; the message stays unacknowledged, uncommitted', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    q.deadLetters.fail = () => new PluginError('UNAVAILABLE', 'NOT_ENOUGH_REPLICAS');
    const err = await rejection(nack(q.deps, { receipts: [m.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect((err as Error).message).toBe(`dead-lettering failed for receipts ${m.receipt} (NOT_ENOUGH_REPLICAS); those messages stay unacknowledged; the other 0 receipts were settled`);
    expect(q.groups.last.acked).toEqual([]);
    expect(q.sessions.unacked).toBe(1);
    expect(await countOf(q.metrics.queueEvents.deadLettered)).toBe(0);
    // Still the caller's to settle: once the topic takes it, it is dead-lettered and committed.
    q.deadLetters.fail = () => undefined;
    expect(await nack(q.deps, { receipts: [m.receipt] }, ctx)).toMatchObject({ dead_lettered: 1 });
    expect(q.groups.last.acked).toEqual(['0=1']);
    await c.end();
  });

  it('commits nothing past a message whose dead-letter write failed, even when a later one of its partition was written', async () => {
    const q = queueDeps({ partitions: 1 });
    q.append(0, 'a');
    q.append(0, 'b');
    const c = await openConsume(q.deps);
    const [a, b] = await nextN(c.stream, 2);
    q.deadLetters.fail = (record) => (record.value.toString() === 'a' ? new PluginError('UNAVAILABLE', 'RECORD_TOO_LARGE') : undefined);
    const err = await rejection(nack(q.deps, { receipts: [a!.receipt, b!.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect((err as Error).message).toContain(`dead-lettering failed for receipts ${a!.receipt} (RECORD_TOO_LARGE)`);
    expect((err as Error).message).not.toContain(b!.receipt);
    expect((err as Error).message).toContain('the other 1 receipts were settled');
    expect(q.deadLettered().map((r) => r.value)).toEqual(['b']);
    expect(q.groups.last.acked).toEqual([]);
    expect((await nack(q.deps, { receipts: [b!.receipt] }, ctx)).results).toEqual([{ receipt: b!.receipt, outcome: 'unknown', error: '' }]);
    q.deadLetters.fail = () => undefined;
    await nack(q.deps, { receipts: [a!.receipt] }, ctx);
    expect(q.groups.last.acked).toEqual(['0=2']);
    await c.end();
  });

  it('reports each receipt once: unknown for one already settled, stale for one whose partition moved', async () => {
    const q = queueDeps({ partitions: 2 });
    q.append(0, 'a');
    q.append(1, 'b');
    const c = await openConsume(q.deps);
    const got = await nextN(c.stream, 2);
    const settled = got.find((m) => m.partition === 0)!;
    const moved = got.find((m) => m.partition === 1)!;
    await ack(q.deps, { receipts: [settled.receipt] }, ctx);
    await q.groups.last.revoke([1]);
    expect(await nack(q.deps, { receipts: [settled.receipt, moved.receipt, moved.receipt], requeue: true }, ctx)).toEqual({
      requeued: 0, dead_lettered: 0, results: [{ receipt: settled.receipt, outcome: 'unknown', error: '' }, { receipt: moved.receipt, outcome: 'stale', error: '' }],
    });
    expect(q.deadLetters.calls).toEqual([]);
    await c.end();
  });

  it('refuses a receipt of a subscription that has ended with FAILED_PRECONDITION, dead-lettering nothing', async () => {
    const q = queueDeps();
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await c.end();
    const err = await rejection(nack(q.deps, { receipts: [m.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toContain(m.subscription_id);
    expect(q.deadLetters.calls).toEqual([]);
  });

  // Was a bug: the `entry.requeued` branch of QueueSession.nack came before the `requeue` check, so a nack WITHOUT
  // requeue of a message waiting for its redelivery answered "requeued" and the message came again, though the doc
  // comment says "without `requeue` they go to the dead-letter topic now".
  it('without requeue dead-letters a message even while it waits for redelivery', async () => {
    const q = queueDeps({ partitions: 1, consumer: { initialBackoffMs: 1_000, maxBackoffMs: 1_000 } });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await nack(q.deps, { receipts: [m.receipt], requeue: true }, ctx);
    try {
      expect(await nack(q.deps, { receipts: [m.receipt], requeue: false, reason: 'give up' }, ctx)).toEqual({
        requeued: 0, dead_lettered: 1, results: [{ receipt: m.receipt, outcome: 'dead_lettered', error: '' }],
      });
      expect(q.deadLettered().map((r) => [r.value, r.headers['prism-dlq-reason']])).toEqual([['a', 'give up']]);
      expect(q.groups.last.acked).toEqual(['0=1']);
      expect(q.sessions.unacked).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('calls off the redelivery of a message dead-lettered while it waits: it does not come back during the write, nor after', async () => {
    const q = queueDeps({ partitions: 1, consumer: { initialBackoffMs: 20, maxBackoffMs: 20 } });
    const gate = gated(q.deadLetters);
    const deps = { ...q.deps, deadLetters: gate.producer };
    q.append(0, 'a');
    const c = await openConsume(deps);
    const m = await next(c.stream);
    await nack(deps, { receipts: [m.receipt], requeue: true }, ctx);
    const answer = nack(deps, { receipts: [m.receipt] }, ctx);
    const waiting = c.stream.next();
    // Well past the backoff, with the dead-letter write held: the message is not delivered again meanwhile.
    expect(await stillPending(waiting, 100)).toBe(true);
    expect(q.groups.last.acked).toEqual([]);
    gate.release();
    expect(await answer).toMatchObject({ requeued: 0, dead_lettered: 1 });
    expect(q.groups.last.acked).toEqual(['0=1']);
    expect(await stillPending(waiting, 100)).toBe(true);
    await c.end();
  });

  it('puts a message that was waiting for redelivery back in line when its dead-letter write fails', async () => {
    const q = queueDeps({ partitions: 1, consumer: { initialBackoffMs: 20, maxBackoffMs: 20 } });
    q.append(0, 'a');
    const c = await openConsume(q.deps);
    const m = await next(c.stream);
    await nack(q.deps, { receipts: [m.receipt], requeue: true }, ctx);
    q.deadLetters.fail = () => new PluginError('UNAVAILABLE', 'NOT_ENOUGH_REPLICAS');
    const err = await rejection(nack(q.deps, { receipts: [m.receipt] }, ctx));
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(q.groups.last.acked).toEqual([]);
    // Unsettled, so redelivered as the first nack asked (one attempt more), and still the caller's to settle.
    expect(await next(c.stream)).toMatchObject({ offset: '0', attempt: 2, receipt: m.receipt });
    q.deadLetters.fail = () => undefined;
    expect(await ack(q.deps, { receipts: [m.receipt] }, ctx)).toEqual({ acknowledged: 1, committed: ['orders/0=1'] });
    await c.end();
  });

  it.each([
    [{ receipts: ['w~12345678:1:0:0'], requeue: 'yes' }, 'requeue: expected true or false, got "yes"'],
    [{ receipts: ['w~12345678:1:0:0'], reason: 'x'.repeat(1_001) }, 'reason: expected a reason of at most 1000 characters, got "xxx'],
    [{ receipts: ['w~12345678:1:0:0'], reason: 7 }, 'reason: expected a reason text, got 7'],
    [{ receipts: [] }, 'receipts: expected at least one receipt, got []'],
    [{ receipts: ['fn2'] }, 'receipts[0]: expected a receipt from a delivered message, got "fn2"'],
  ])('refuses %# with INVALID_ARGUMENT naming the field and the value', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(nack(q.deps, request, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
  });
});
