import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPluginError } from '../../../../core/errors.ts';
import { QueueSession, type Delivery } from '../../../../core/queue/session.ts';
import { FakeSubscription } from '../../../support/fake-group.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog } from '../../../support/fake-reader.ts';

function setup(options: { maxUnacked?: number; maxAttempts?: number } = {}) {
  const sub = new FakeSubscription();
  const log = new FakeLog();
  log.createTopic('t.dlq', 1);
  const producer = new FakeProducer(log);
  const events = { deadLettered: vi.fn(), commitFailed: vi.fn(), delivered: vi.fn() };
  const session = new QueueSession({
    id: 'w1~abc', topic: 't', group: 'g', maxUnacked: options.maxUnacked ?? 10, maxAttempts: options.maxAttempts ?? 3,
    deadLetterTopic: 't.dlq', backoff: { initialMs: 10, maxMs: 40, factor: 2 }, events,
  }, sub, producer);
  const abort = new AbortController();
  const it = session.deliveries(abort.signal);
  const take = async (): Promise<Delivery> => (await it.next()).value as Delivery;
  return { sub, session, producer, log, events, abort, take, it };
}

afterEach(() => vi.useRealTimers());

describe('QueueSession', () => {
  it('delivers records of assigned partitions with receipts and attempt 1', async () => {
    const { sub, take } = setup();
    sub.assign([0, 1]);
    sub.push(0, 5);
    sub.push(1, 7);
    const a = await take();
    const b = await take();
    expect([a.receipt, a.attempt, b.receipt]).toEqual(['w1~abc:1:0:5', 1, 'w1~abc:2:1:7']);
  });

  it('commits up to the lowest unacknowledged offset of each partition', async () => {
    const { sub, session, take } = setup();
    sub.assign([0]);
    for (const o of [0, 1, 2]) sub.push(0, o);
    const [d0, d1, d2] = [await take(), await take(), await take()];
    expect(await session.ack([d2.receipt, d1.receipt])).toEqual({ acknowledged: 2, committed: [] });
    expect(await session.ack([d0.receipt])).toEqual({ acknowledged: 1, committed: ['t/0=3'] });
    expect(sub.acked).toEqual(['0=3']);
    // Before the first delivery of the assignment, its attempt was counted in the group (write-ahead, ADR 0005).
    expect(sub.commits[0]).toEqual({ partition: 0, offset: '0', metadata: 'prism-attempts:0:1' });
  });

  it('stops delivering at max_unacked and resumes when an ack frees the window', async () => {
    const { sub, session, take, it: gen } = setup({ maxUnacked: 2 });
    sub.assign([0]);
    for (const o of [0, 1, 2]) sub.push(0, o);
    const d0 = await take();
    await take();
    let third: Delivery | undefined;
    const pending = gen.next().then((r) => (third = r.value as Delivery));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBeUndefined();
    await session.ack([d0.receipt]);
    await pending;
    expect(third?.record.offset).toBe('2');
  });

  it('redelivers a requeued message with the next attempt, after the backoff', async () => {
    const { sub, session, take } = setup();
    sub.assign([0]);
    sub.push(0, 0);
    const first = await take();
    const started = Date.now();
    expect(await session.nack([first.receipt], true, 'retry')).toMatchObject({ requeued: 1, deadLettered: 0 });
    // Nacking it again before it comes back counts one attempt, not two.
    expect((await session.nack([first.receipt], true, 'retry')).results).toEqual([{ receipt: first.receipt, outcome: 'requeued', error: '' }]);
    const again = await take();
    expect(again.attempt).toBe(2);
    expect(again.record.offset).toBe('0');
    expect(Date.now() - started).toBeGreaterThanOrEqual(9);
  });

  it('dead-letters past the attempt limit with the reason, attempts and source, then commits', async () => {
    const { sub, session, take, log, events } = setup({ maxAttempts: 2 });
    sub.assign([0]);
    sub.push(0, 4);
    const d1 = await take();
    await session.nack([d1.receipt], true, 'boom');
    const d2 = await take();
    expect(await session.nack([d2.receipt], true, 'boom')).toMatchObject({ requeued: 0, deadLettered: 1 });
    const [dead] = log.get('t.dlq').partitions[0]!;
    const headers = Object.fromEntries(dead!.headers.map(([k, v]) => [k, v.toString()]));
    expect(headers).toMatchObject({ 'prism-message-id': 'id-0-4', 'prism-dlq-reason': 'attempts exhausted (2): boom', 'prism-dlq-attempts': '2', 'prism-dlq-source': 't/0/4' });
    expect(sub.acked).toEqual(['0=5']);
    expect(events.deadLettered).toHaveBeenCalledOnce();
  });

  it('keeps a message unacknowledged when the dead-letter write fails, and says so', async () => {
    const { sub, session, take, producer } = setup();
    producer.fail = () => new Error('broker down');
    sub.assign([0]);
    sub.push(0, 0);
    const d = await take();
    const err: unknown = await session.nack([d.receipt], false, 'bad').catch((e: unknown) => e);
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(session.unacked).toBe(1);
    expect(sub.acked).toEqual([]);
  });

  it('keeps receipts of a partition kept through a rebalance; refuses those of a revoked one as stale', async () => {
    const { sub, session, take } = setup();
    sub.assign([0, 1]);
    sub.push(0, 0);
    const kept = await take();
    sub.push(1, 0);
    const lost = await take();
    await sub.revoke([1]);
    sub.assign([2]);
    expect(await session.ack([kept.receipt])).toEqual({ acknowledged: 1, committed: ['t/0=1'] });
    const err: unknown = await session.ack([lost.receipt]).catch((e: unknown) => e);
    expect(isPluginError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toContain(lost.receipt);
    expect(sub.acked).toEqual(['0=1']);
    expect((await session.nack([lost.receipt], true, 'x')).results[0]!.outcome).toBe('stale');
  });

  it('discards records fetched before a revocation and resumes a reassigned partition from its committed offset', async () => {
    const { sub, take } = setup();
    sub.assign([0]);
    for (const o of [0, 1, 2]) sub.push(0, o);
    expect((await take()).record.offset).toBe('0');
    await sub.revoke([0]);
    sub.assign([0], '0');
    const again = await take();
    expect([again.record.offset, again.receipt]).toEqual(['0', 'w1~abc:2:0:0']);
  });

  it('counts attempts across restarts from the commit metadata and dead-letters a message that never gets acked', async () => {
    const { sub, take, log } = setup({ maxAttempts: 3 });
    sub.assign([0], '7', 'prism-attempts:7:3');
    sub.push(0, 7);
    sub.push(0, 8);
    const next = await take();
    expect(next.record.offset).toBe('8');
    expect(log.get('t.dlq').partitions[0]!.map((r) => r.headers.find(([k]) => k === 'prism-dlq-attempts')![1].toString())).toEqual(['3']);
    expect(sub.acked).toEqual(['0=8']);
  });

  it('reports each receipt of a Nack, and a failed dead-letter write names its receipt', async () => {
    const { sub, session, take, producer } = setup();
    sub.assign([0]);
    sub.push(0, 0);
    sub.push(0, 1);
    const [a, b] = [await take(), await take()];
    producer.fail = () => new Error('broker down');
    const err: unknown = await session.nack([a.receipt, b.receipt], false, 'bad').catch((e: unknown) => e);
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect((err as Error).message).toContain(a.receipt);
    expect(session.unacked).toBe(2);
  });

  it('reports a failed commit as UNAVAILABLE: the messages may come again', async () => {
    const { sub, session, take, events } = setup();
    sub.assign([0]);
    sub.push(0, 0);
    const d = await take();
    sub.failCommits = true;
    const err: unknown = await session.ack([d.receipt]).catch((e: unknown) => e);
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(events.commitFailed).toHaveBeenCalledOnce();
  });

  it('ends deliveries when the signal aborts, and close() passes leave to the group', async () => {
    const { sub, session, abort, it: gen } = setup();
    sub.assign([0]);
    const next = gen.next();
    abort.abort();
    expect((await next).done).toBe(true);
    await session.close(true);
    expect(sub.closed).toEqual({ leave: true });
  });
});
