import { describe, expect, it } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import { seek } from '../../../handlers/seek.ts';
import { testContext } from '../../support/context.ts';
import { openConsume, queueDeps, rejection, type SeekTarget } from './queue-deps.ts';

const ctx = testContext();

describe('seek handler', () => {
  it.each<[string, Record<string, unknown>, SeekTarget]>([
    ['earliest', { earliest_or_latest: 'earliest' }, { earliest: true }],
    ['latest', { earliest_or_latest: 'latest' }, { latest: true }],
    ['a timestamp', { timestamp: 1_700_000_000_000 }, { timestamp: 1_700_000_000_000 }],
    ['a timestamp as gRPC sends an int64 (a decimal string)', { timestamp: '1700000000000' }, { timestamp: 1_700_000_000_000 }],
    ['timestamp 0', { timestamp: 0 }, { timestamp: 0 }],
    ['explicit offsets', { offsets: { offsets: { 0: '2', 2: '1' } } }, { offsets: new Map([[0, '2'], [2, '1']]) }],
  ])('hands %s to the group port as given, for the group and topic given, and answers what it committed', async (_, position, to) => {
    const q = queueDeps();
    for (let i = 0; i < 3; i++) q.append(0, `m${i}`, { timestamp: 1_600_000_000_000 });
    q.append(2, 'x');
    const answer = await seek(q.deps, { topic: 'orders', group: 'billing', ...position }, ctx);
    expect(q.groups.seekCalls).toEqual([{ group: 'billing', topic: 'orders', to }]);
    const committed: Record<string, string> = Object.fromEntries(q.groups.committedOf('billing').map((e) => e.split('=') as [string, string]));
    expect(answer).toEqual({ committed });
    expect(Object.keys(committed).length).toBeGreaterThan(0);
  });

  it('answers the offsets the port reports, per partition', async () => {
    const q = queueDeps();
    for (let i = 0; i < 3; i++) q.append(0, `m${i}`);
    q.append(1, 'x');
    expect(await seek(q.deps, { topic: 'orders', group: 'billing', earliest_or_latest: 'latest' }, ctx)).toEqual({ committed: { 0: '3', 1: '1', 2: '0' } });
  });

  it('seeks the configured group when the request names none (or an empty one)', async () => {
    const q = queueDeps({ kafka: { consumerGroup: 'cfg-group' } });
    await seek(q.deps, { topic: 'orders', earliest_or_latest: 'earliest' }, ctx);
    await seek(q.deps, { topic: 'orders', group: '', earliest_or_latest: 'earliest' }, ctx);
    expect(q.groups.seekCalls.map((c) => c.group)).toEqual(['cfg-group', 'cfg-group']);
  });

  it('passes the port\'s refusal through with its code: FAILED_PRECONDITION while the group has a member', async () => {
    const q = queueDeps();
    const c = await openConsume(q.deps, { group: 'busy' });
    const err = await rejection(seek(q.deps, { topic: 'orders', group: 'busy', earliest_or_latest: 'earliest' }, ctx));
    expect(isPluginError(err) && [err.code, err.message]).toEqual(['FAILED_PRECONDITION', 'group busy has active members; stop its consumers before seeking']);
    await c.end();
  });

  it('passes any other error of the port through as it is', async () => {
    const q = queueDeps();
    const failure = new PluginError('PERMISSION_DENIED', 'not authorized to alter group billing');
    q.groups.fail.seek = failure;
    expect(await rejection(seek(q.deps, { topic: 'orders', group: 'billing', earliest_or_latest: 'latest' }, ctx))).toBe(failure);
    const read = new PluginError('NOT_FOUND', 'topic orders does not exist');
    q.groups.fail.offsets = read;
    expect(await rejection(seek(q.deps, { topic: 'orders', group: 'billing', offsets: { offsets: { 0: '0' } } }, ctx))).toBe(read);
  });

  it('accepts explicit offsets from the log start to the log end, inclusive', async () => {
    const q = queueDeps();
    for (let i = 0; i < 5; i++) q.append(0, `m${i}`);
    q.groups.logStart.set(0, '2');
    expect(await seek(q.deps, { topic: 'orders', group: 'g', offsets: { offsets: { 0: '2' } } }, ctx)).toEqual({ committed: { 0: '2' } });
    expect(await seek(q.deps, { topic: 'orders', group: 'g', offsets: { offsets: { 0: '5' } } }, ctx)).toEqual({ committed: { 0: '5' } });
    expect(q.groups.offsetsCalls).toEqual([['g', 'orders'], ['g', 'orders']]);
  });

  it('refuses, before seeking, explicit offsets of a partition the topic lacks or outside its log, naming each', async () => {
    const q = queueDeps();
    for (let i = 0; i < 5; i++) q.append(0, `m${i}`);
    q.groups.logStart.set(0, '2');
    const err = await rejection(seek(q.deps, { topic: 'orders', group: 'g', offsets: { offsets: { 0: '1', 1: '9', 7: '0' } } }, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect(isPluginError(err) && err.violations).toEqual([
      { field: 'offsets.offsets.0', expected: 'an offset within the partition\'s log, from 2 to 5', got: '1' },
      { field: 'offsets.offsets.1', expected: 'an offset within the partition\'s log, from 0 to 0', got: '9' },
      { field: 'offsets.offsets.7', expected: 'a partition of the topic (0–2)', got: '7' },
    ]);
    expect(q.groups.seekCalls).toEqual([]);
  });

  it.each([
    [{ topic: 'orders' }, 'position: expected exactly one of earliest_or_latest, timestamp, offsets'],
    [{ topic: 'orders', earliest_or_latest: 'earliest', timestamp: 5 }, 'position: expected exactly one of earliest_or_latest, timestamp, offsets'],
    [{ topic: 'orders', earliest_or_latest: 'middle' }, 'earliest_or_latest: expected "earliest" or "latest", got "middle"'],
    [{ topic: 'orders', timestamp: -1 }, 'timestamp: expected a timestamp: Unix epoch milliseconds from 0 to 8640000000000000, got -1'],
    [{ topic: 'orders', timestamp: 8_640_000_000_000_001 }, 'timestamp: expected a timestamp: Unix epoch milliseconds from 0 to 8640000000000000, got 8640000000000001'],
    [{ topic: 'orders', timestamp: 1.5 }, 'timestamp: expected a timestamp: Unix epoch milliseconds from 0 to 8640000000000000, got 1.5'],
    [{ topic: 'orders', offsets: { offsets: {} } }, 'offsets.offsets: expected at least one partition and its offset, got {}'],
    [{ topic: 'orders', offsets: { offsets: { 0: 'x' } } }, 'offsets.offsets.0: expected a decimal offset, got "x"'],
    [{ topic: 'orders', group: 'a b', earliest_or_latest: 'earliest' }, 'group: expected 1–200 characters from a-z A-Z 0-9 . _ -, got "a b"'],
    [{ topic: '..', earliest_or_latest: 'earliest' }, 'topic: expected a topic name other than "." or "..", got ".."'],
  ])('refuses %j with INVALID_ARGUMENT naming the field, the value and what is expected; asks the port nothing', async (request, message) => {
    const q = queueDeps();
    const err = await rejection(seek(q.deps, request, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect([q.groups.seekCalls, q.groups.offsetsCalls]).toEqual([[], []]);
  });

  // Was a bug (message only): gRPC sends the int64 timestamp as a decimal string, so a negative one arrives as "-1"
  // and failed the string branch's regex, whose zod default text leaked out: "expected Invalid string: must match
  // pattern /^\d{1,16}$/". The number form got the documented range; now every form does (the shared int64 schema).
  it('refuses a negative timestamp sent as gRPC does (a string) with the documented range', async () => {
    const err = await rejection(seek(queueDeps().deps, { topic: 'orders', timestamp: '-1' }, ctx));
    expect((err as Error).message).toContain('timestamp: expected a timestamp: Unix epoch milliseconds from 0 to 8640000000000000, got "-1"');
  });

  it.each([
    ['12345678901234567', '"12345678901234567"'],
    ['8640000000000001', '"8640000000000001"'],
    ['99999999999999999999', '"99999999999999999999"'],
    ['1.5', '"1.5"'],
    ['1e3', '"1e3"'],
    ['', '""'],
    [true, 'true'],
  ])('refuses the timestamp %j with the documented range, whatever its form', async (timestamp, got) => {
    const q = queueDeps();
    const err = await rejection(seek(q.deps, { topic: 'orders', timestamp }, ctx));
    expect(isPluginError(err) && err.violations).toEqual([{ field: 'timestamp', expected: 'a timestamp: Unix epoch milliseconds from 0 to 8640000000000000', got }]);
    expect(q.groups.seekCalls).toEqual([]);
  });

  it('takes the largest timestamp as a string too, and "-0" as 0', async () => {
    const q = queueDeps();
    await seek(q.deps, { topic: 'orders', group: 'g', timestamp: '8640000000000000' }, ctx);
    await seek(q.deps, { topic: 'orders', group: 'g', timestamp: '-0' }, ctx);
    expect(q.groups.seekCalls.map((c) => c.to)).toEqual([{ timestamp: 8_640_000_000_000_000 }, { timestamp: 0 }]);
  });

  // Was a bug (message only): the offsets map is map<int32, string>, so a negative partition key can arrive; zod
  // reported it as "expected Invalid key in record" and showed the offset as the value instead of the key.
  it('refuses a negative partition key naming what is expected of it', async () => {
    const q = queueDeps();
    const err = await rejection(seek(q.deps, { topic: 'orders', offsets: { offsets: { '-1': '5' } } }, ctx));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain('offsets.offsets["-1"]: expected a partition number from 0 to 2147483647 (the map key), got "-1"');
    expect(isPluginError(err) && err.violations).toEqual([{ field: 'offsets.offsets["-1"]', expected: 'a partition number from 0 to 2147483647 (the map key)', got: '"-1"' }]);
    expect([q.groups.seekCalls, q.groups.offsetsCalls]).toEqual([[], []]);
  });

  it('refuses every partition key that is no int32 partition number, each by itself, asking the port nothing', async () => {
    const q = queueDeps();
    const err = await rejection(seek(q.deps, { topic: 'orders', offsets: { offsets: { 0: '1', x: '1', '1.5': '1', 2147483648: '1', 2147483647: '1' } } }, ctx));
    const expected = 'a partition number from 0 to 2147483647 (the map key)';
    expect(isPluginError(err) && err.violations).toEqual([
      { field: 'offsets.offsets.2147483648', expected, got: '"2147483648"' },
      { field: 'offsets.offsets.x', expected, got: '"x"' },
      { field: 'offsets.offsets["1.5"]', expected, got: '"1.5"' },
    ]);
    expect([q.groups.seekCalls, q.groups.offsetsCalls]).toEqual([[], []]);
  });
});
