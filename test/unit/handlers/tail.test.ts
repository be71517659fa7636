import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../../core/errors.ts';
import { tail, type TailDeps } from '../../../handlers/tail.ts';
import { encodeQueryCursor, encodeTailCursor } from '../../../handlers/stream/cursor.ts';
import { testContext } from '../../support/context.ts';
import { FakeLog, FakeReader } from '../../support/fake-reader.ts';
import { ids, quiet, take, testMetrics } from '../../support/streams.ts';

const base = Date.UTC(2026, 0, 1);

/** A 3-partition topic with `n` records per partition stamped base + i*10 (i = index within the partition). */
function setup(n = 5) {
  const log = new FakeLog();
  log.createTopic('events', 3);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 3; p++) log.append('events', p, { value: Buffer.from(`v${p}-${i}`), key: Buffer.from(`k${i % 2}`), headers: [['kind', Buffer.from(i % 2 === 0 ? 'even' : 'odd')]], timestamp: base + i * 10 });
  }
  const reader = new FakeReader(log);
  const deps: TailDeps = { reader, metrics: testMetrics(), tailTuning: { maxWaitMs: 50 } };
  return { log, reader, deps };
}

const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const fail = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => e);

describe('tail handler', () => {
  it('from earliest delivers every record once, each partition in offset order, with tags and a cursor, in batched fetches', async () => {
    const { reader, deps } = setup(20);
    const events = await tail(deps, { topic: 'events', start: 'earliest' }, testContext());
    const got = await take(events, 60);
    await events.return();
    expect(new Set(ids(got)).size).toBe(60);
    for (const p of [0, 1, 2]) expect(got.filter((e) => e.partition === p).map((e) => Number(e.offset))).toEqual([...Array(20).keys()]);
    expect(got[0]).toMatchObject({ topic: 'events', key: Buffer.from('k0'), tags: { kind: 'even' }, timestamp: base });
    expect(got.every((e) => e.cursor.length > 0)).toBe(true);
    expect(reader.fetches).toBeLessThanOrEqual(3);
    expect(reader.openFetchers).toBe(0);
  });

  it('from latest (the default) skips what exists and delivers a record appended after it is positioned', async () => {
    const { log, deps } = setup();
    const events = await tail(deps, { topic: 'events' }, testContext());
    log.append('events', 1, { value: Buffer.from('new'), timestamp: base + 1_000 });
    const [event] = await take(events, 1);
    await events.return();
    expect(event).toMatchObject({ partition: 1, offset: '5', payload: Buffer.from('new') });
  });

  it('from start_time delivers exactly the records stamped at or after it', async () => {
    const { deps } = setup();
    const abort = new AbortController();
    const events = await tail(deps, { topic: 'events', start_time: String(base + 30) }, testContext({ signal: abort.signal }));
    const got = await take(events, 6);
    expect(await quiet(events, 150, abort)).toBe(true);
    expect(got.every((e) => e.timestamp >= base + 30)).toBe(true);
    expect(ids(got).sort()).toEqual(['0:3', '0:4', '1:3', '1:4', '2:3', '2:4']);
  });

  it('from start_offsets starts the listed partitions there and the others at their end', async () => {
    const { log, deps } = setup();
    const events = await tail(deps, { topic: 'events', start_offsets: { 1: '3' } }, testContext());
    log.append('events', 0, { value: Buffer.from('new'), timestamp: base });
    const got = await take(events, 3);
    await events.return();
    expect(ids(got).sort()).toEqual(['0:5', '1:3', '1:4']);
  });

  it('resumes from the last cursor received with no gap and no duplicate', async () => {
    const { log, deps } = setup(10);
    const first = await tail(deps, { topic: 'events', start: 'earliest' }, testContext());
    const before = await take(first, 17);
    await first.return();
    log.append('events', 2, { value: Buffer.from('after'), timestamp: base + 500 });
    const abort = new AbortController();
    const second = await tail(deps, { topic: 'events', cursor: before.at(-1)!.cursor }, testContext({ signal: abort.signal }));
    const after = await take(second, 31 - 17);
    expect(await quiet(second, 150, abort)).toBe(true);
    const all = [...ids(before), ...ids(after)];
    expect(new Set(all).size).toBe(31);
    expect(all).toContain('2:10');
  });

  it('delivers only events with the key and tags of the filters', async () => {
    const { deps } = setup(6);
    const abort = new AbortController();
    const events = await tail(deps, { topic: 'events', start: 'earliest', key_filter: Buffer.from('k0'), tag_filter: { kind: 'even' } }, testContext({ signal: abort.signal }));
    const got = await take(events, 9);
    expect(await quiet(events, 150, abort)).toBe(true);
    expect(got.every((e) => e.key.toString() === 'k0' && e.tags.kind === 'even')).toBe(true);
  });

  it('follows partitions added while tailing, from their first record', async () => {
    const { log, deps } = setup(1);
    const ctx = testContext();
    const events = await tail({ ...deps, tailTuning: { maxWaitMs: 20, partitionCheckMs: 30 } }, { topic: 'events' }, ctx);
    log.addPartitions('events', 1);
    log.append('events', 3, { value: Buffer.from('p3'), timestamp: base });
    const [event] = await take(events, 1, 2_000);
    await events.return();
    expect(event).toMatchObject({ partition: 3, offset: '0' });
  });

  it('ends when the call is cancelled, and releases its fetcher', async () => {
    const { reader, deps } = setup();
    const abort = new AbortController();
    const events = await tail(deps, { topic: 'events' }, testContext({ signal: abort.signal }));
    const pending = events.next();
    setTimeout(() => abort.abort(), 30);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(reader.openFetchers).toBe(0);
  });

  describe('refuses with INVALID_ARGUMENT', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['two starts', { topic: 'events', start: 'earliest', start_time: '5' }, 'start: expected at most one of start, start_time, start_offsets and cursor'],
      ['an unknown start', { topic: 'events', start: 'newest' }, 'start: expected "latest" or "earliest", got "newest"'],
      ['a negative start_time', { topic: 'events', start_time: '-5' }, 'start_time: expected start_time: Unix epoch milliseconds, 0 or more, got "-5"'],
      ['a bad topic', { topic: 'a/b' }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
      ['a malformed cursor', { topic: 'events', cursor: 'not a cursor!' }, 'cursor: expected a cursor returned by an earlier Tail call, got "not a cursor!"'],
      ['a cursor of a query', { topic: 'events', cursor: encodeQueryCursor({ topic: 'events', startTime: null, endTime: null, filter: '', ends: new Map(), positions: new Map(), bytesPerRecord: 0 }) }, 'cursor: expected a cursor returned by an earlier Tail call'],
      ['a cursor of another topic', { topic: 'events', cursor: encodeTailCursor({ topic: 'orders', positions: new Map([[0, '1']]) }) }, 'cursor: expected a cursor of topic events, got a cursor of topic orders'],
      ['a cursor naming a partition the topic lacks', { topic: 'events', cursor: encodeTailCursor({ topic: 'events', positions: new Map([[7, '1']]) }) }, "cursor: expected a cursor of this topic's 3 partitions, got a cursor naming partition 7"],
      ['an offset for a partition the topic lacks', { topic: 'events', start_offsets: { 9: '0' } }, 'start_offsets.9: expected a partition of this topic (0–2), got 9'],
      ['an offset that is not a number', { topic: 'events', start_offsets: { 1: 'x' } }, 'start_offsets.1: expected an offset: a whole number, 0 or more, got "x"'],
    ];
    it.each(cases)('%s', async (_name, request, message) => {
      const err = await fail(tail(setup().deps, request, testContext()));
      expect(codeOf(err)).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toContain(message);
    });
  });

  it('refuses a missing topic with NOT_FOUND', async () => {
    expect(codeOf(await fail(tail(setup().deps, { topic: 'missing' }, testContext())))).toBe('NOT_FOUND');
  });
});
