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
    expect([a.receipt, a.attempt, b.receipt]).toEqual(['w1~abc:1:0:5', 1, 'w1~abc:1:1:7']);
  });

  it('commits up to the lowest unacknowledged offset of each partition', async () => {
    const { sub, session, take } = setup();
    sub.assign([0]);
    for (const o of [0, 1, 2]) sub.push(0, o);
    const [d0, d1, d2] = [await take(), await take(), await take()];
    expect(await session.ack([d2.receipt, d1.receipt])).toEqual({ acknowledged: 2, committed: [] });
    expect(await session.ack([d0.receipt])).toEqual({ acknowledged: 1, committed: ['t/0=3'] });
    expect(sub.commits).toEqual([{ partition: 0, offset: '3' }]);
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
    expect(await session.nack([first.receipt], true, 'retry')).toEqual({ requeued: 1, deadLettered: 0 });
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
    expect(await session.nack([d2.receipt], true, 'boom')).toEqual({ requeued: 0, deadLettered: 1 });
    const [dead] = log.get('t.dlq').partitions[0]!;
    const headers = Object.fromEntries(dead!.headers.map(([k, v]) => [k, v.toString()]));
    expect(headers).toMatchObject({ 'prism-message-id': 'id-0-4', 'prism-dlq-reason': 'attempts exhausted (2): boom', 'prism-dlq-attempts': '2', 'prism-dlq-source': 't/0/4' });
    expect(sub.commits).toEqual([{ partition: 0, offset: '5' }]);
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
    expect(sub.commits).toEqual([]);
  });

  it('voids receipts of the previous assignment after a rebalance and skips revoked partitions', async () => {
    const { sub, session, take } = setup();
    sub.assign([0, 1]);
    sub.push(0, 0);
    const old = await take();
    sub.assign([1]);
    expect(await session.ack([old.receipt])).toEqual({ acknowledged: 0, committed: [] });
    sub.push(0, 1); // fetched before the revocation took effect
    sub.push(1, 0);
    const next = await take();
    expect(next.receipt).toBe('w1~abc:2:1:0');
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
