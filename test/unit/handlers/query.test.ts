import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../../core/errors.ts';
import { query, type QueryDeps } from '../../../handlers/query.ts';
import { encodeTailCursor } from '../../../handlers/stream/cursor.ts';
import type { StreamEvent } from '../../../handlers/stream/events.ts';
import { testContext } from '../../support/context.ts';
import { FakeLog, FakeReader } from '../../support/fake-reader.ts';
import { ids, testMetrics } from '../../support/streams.ts';

const base = Date.UTC(2026, 0, 1);
const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const fail = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => e);

/**
 * 3 partitions, `n` records each. Partition p's i-th record is stamped base + 10*i + (p === 2 ? 0 : p): partitions
 * 0 and 2 tie on every timestamp (the partition breaks the tie), partition 1 sits 1 ms later.
 */
function setup(n = 30) {
  const log = new FakeLog();
  log.createTopic('events', 3);
  for (let i = 0; i < n; i++) {
    for (const p of [0, 1, 2]) log.append('events', p, { value: Buffer.from(`v${p}-${i}`), key: Buffer.from(`k${i % 3}`), headers: [['kind', Buffer.from(i % 2 === 0 ? 'even' : 'odd')]], timestamp: base + 10 * i + (p === 1 ? 1 : 0) });
  }
  const reader = new FakeReader(log);
  const deps: QueryDeps = { reader, metrics: testMetrics() };
  return { log, reader, deps };
}

/** Pages through a query; returns every event and the number of pages. */
async function all(deps: QueryDeps, request: Record<string, unknown>, limit: number) {
  const events: StreamEvent[] = [];
  let cursor = typeof request.cursor === 'string' ? request.cursor : '';
  let pages = 0;
  do {
    const page = await query(deps, { ...request, limit, cursor }, testContext());
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...page.events);
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== '' && pages < 10_000);
  return { events, pages };
}

const sorted = (events: StreamEvent[]) => [...events].sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || Number(a.offset) - Number(b.offset));

describe('query handler', () => {
  it('returns [start_time, end_time): a record stamped at start_time is in, one at end_time is out', async () => {
    const { deps } = setup();
    const page = await query(deps, { topic: 'events', start_time: String(base + 50), end_time: String(base + 100), limit: 1000 }, testContext());
    expect(page.next_cursor).toBe('');
    expect(page.events.map((e) => e.timestamp - base)).toEqual([50, 50, 51, 60, 60, 61, 70, 70, 71, 80, 80, 81, 90, 90, 91]);
  });

  it('orders by timestamp, then partition, then offset', async () => {
    const { deps } = setup();
    const { events } = await all(deps, { topic: 'events' }, 1000);
    expect(events).toHaveLength(90);
    expect(ids(events)).toEqual(ids(sorted(events)));
    expect(ids(events.slice(0, 3))).toEqual(['0:0', '2:0', '1:0']);
  });

  it.each([1, 7, 1000])('pages of %i return every record in range exactly once, in order', async (limit) => {
    const { deps } = setup();
    const request = { topic: 'events', start_time: String(base + 25), end_time: String(base + 255) };
    const { events, pages } = await all(deps, request, limit);
    const expected = (await query(deps, { ...request, limit: 10_000 }, testContext())).events;
    expect(expected).toHaveLength(69);
    expect(ids(events)).toEqual(ids(expected));
    // The last page knows it is the last: every partition reached its end.
    expect(pages).toBe(Math.ceil(69 / limit));
  });

  it('never returns records appended after the first page (the snapshot)', async () => {
    const { log, deps } = setup(5);
    const first = await query(deps, { topic: 'events', limit: 4 }, testContext());
    for (let i = 0; i < 10; i++) log.append('events', i % 3, { value: Buffer.from('late'), timestamp: base });
    const rest = await all(deps, { topic: 'events', cursor: first.next_cursor }, 4);
    expect(first.events.length + rest.events.length).toBe(15);
    expect(rest.events.some((e) => e.payload.toString() === 'late')).toBe(false);
  });

  it('applies key and tag filters without breaking paging', async () => {
    const { deps } = setup();
    const request = { topic: 'events', key_filter: Buffer.from('k1'), tag_filter: { kind: 'odd' } };
    const { events } = await all(deps, request, 4);
    expect(events.length).toBe(15);
    expect(events.every((e) => e.key.toString() === 'k1' && e.tags.kind === 'odd')).toBe(true);
  });

  it('closes a page early past its byte budget and continues from there', async () => {
    const log = new FakeLog();
    log.createTopic('big', 1);
    for (let i = 0; i < 5; i++) log.append('big', 0, { value: Buffer.alloc(1 << 20, i), timestamp: base + i });
    const deps = { reader: new FakeReader(log), metrics: testMetrics() };
    const first = await query(deps, { topic: 'big', limit: 100 }, testContext());
    expect(first.events.length).toBeLessThan(5);
    const rest = await all(deps, { topic: 'big', cursor: first.next_cursor }, 100);
    expect(first.events.length + rest.events.length).toBe(5);
  });

  it('reads in batched fetches and releases its fetcher', async () => {
    const { reader, deps } = setup(100);
    await query(deps, { topic: 'events', limit: 300 }, testContext());
    expect(reader.fetches).toBeLessThanOrEqual(6);
    expect(reader.openFetchers).toBe(0);
  });

  describe('refuses with INVALID_ARGUMENT', () => {
    const cursorOf = async (request: Record<string, unknown>) => (await query(setup().deps, { ...request, limit: 1 }, testContext())).next_cursor;
    const cases: [string, () => Promise<Record<string, unknown>>, string][] = [
      ['end_time before start_time', () => Promise.resolve({ topic: 'events', start_time: '20', end_time: '10' }), 'end_time: expected end_time after start_time'],
      ['a limit over 10000', () => Promise.resolve({ topic: 'events', limit: 10_001 }), 'limit: expected limit: a page size from 1 to 10000 (0 for 100), got 10001'],
      ['a malformed cursor', () => Promise.resolve({ topic: 'events', cursor: 'eyJ2IjoxfQ' }), 'cursor: expected a cursor returned by an earlier Query call'],
      ['a tail cursor', () => Promise.resolve({ topic: 'events', cursor: encodeTailCursor({ topic: 'events', positions: new Map([[0, '1']]) }) }), 'cursor: expected a cursor returned by an earlier Query call'],
      ['a cursor of another time range', async () => ({ topic: 'events', start_time: '5', cursor: await cursorOf({ topic: 'events', start_time: '6' }) }), 'expected the cursor of a query with the same start_time, end_time and filters'],
      ['a cursor of other filters', async () => ({ topic: 'events', tag_filter: { kind: 'odd' }, cursor: await cursorOf({ topic: 'events' }) }), 'expected the cursor of a query with the same start_time, end_time and filters'],
    ];
    it.each(cases)('%s', async (_name, request, message) => {
      const err = await fail(query(setup().deps, await request(), testContext()));
      expect(codeOf(err)).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toContain(message);
    });
  });

  it('refuses a missing topic with NOT_FOUND', async () => {
    expect(codeOf(await fail(query(setup().deps, { topic: 'missing' }, testContext())))).toBe('NOT_FOUND');
  });
});
