import { describe, expect, it } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import { ack } from '../../../handlers/ack.ts';
import { offsets } from '../../../handlers/get-offsets.ts';
import { testContext } from '../../support/context.ts';
import { nextN, openConsume, queueDeps, rejection } from './queue-deps.ts';

const ctx = testContext();

describe('get_offsets handler', () => {
  it('reports committed, end and lag of every partition for the group and topic given; lag counts from the log start where nothing is committed', async () => {
    const q = queueDeps();
    for (let i = 0; i < 5; i++) q.append(0, `a${i}`);
    for (let i = 0; i < 3; i++) q.append(1, `b${i}`);
    q.groups.logStart.set(1, '1');
    await q.groups.seek('billing', 'orders', { offsets: new Map([[0, '2']]) });
    expect(await offsets(q.deps, { topic: 'orders', group: 'billing' }, ctx)).toEqual({
      partitions: [
        { partition: 0, committed: '2', end: '5', lag: '3' },
        { partition: 1, committed: '', end: '3', lag: '2' },
        { partition: 2, committed: '', end: '0', lag: '0' },
      ],
    });
    expect(q.groups.offsetsCalls).toEqual([['billing', 'orders']]);
  });

  it('reads the configured group when the request names none (or an empty one)', async () => {
    const q = queueDeps({ kafka: { consumerGroup: 'cfg-group' } });
    await offsets(q.deps, { topic: 'orders' }, ctx);
    await offsets(q.deps, { topic: 'orders', group: '' }, ctx);
    expect(q.groups.offsetsCalls).toEqual([['cfg-group', 'orders'], ['cfg-group', 'orders']]);
  });

  it('shows what acks committed: the lag is what is left', async () => {
    const q = queueDeps({ partitions: 1 });
    for (let i = 0; i < 3; i++) q.append(0, `m${i}`);
    const c = await openConsume(q.deps, { group: 'billing' });
    const [a, b] = await nextN(c.stream, 2);
    await ack(q.deps, { receipts: [a!.receipt, b!.receipt] }, ctx);
    expect(await offsets(q.deps, { topic: 'orders', group: 'billing' }, ctx)).toEqual({ partitions: [{ partition: 0, committed: '2', end: '3', lag: '1' }] });
    await c.end();
  });

  it('passes an error of the port through as it is', async () => {
    const q = queueDeps();
    const failure = new PluginError('NOT_FOUND', 'topic orders does not exist');
    q.groups.fail.offsets = failure;
    expect(await rejection(offsets(q.deps, { topic: 'orders' }, ctx))).toBe(failure);
  });

  it.each([
    [{}, 'topic: expected a topic name, got nothing'],
    [{ topic: 'a/b' }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
    [{ topic: 'orders', group: 'a b' }, 'group: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a b"'],
  ])('refuses %j with INVALID_ARGUMENT naming the field, the value and what is expected; asks the port nothing', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(offsets(q.deps, request, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect(q.groups.offsetsCalls).toEqual([]);
  });
});
