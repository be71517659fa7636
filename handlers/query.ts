import { z } from 'zod';
import { invalidArgument, PluginError } from '../core/errors.ts';
import type { ReaderPort } from '../core/kafka/reader-port.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { decodeQueryCursor, encodeQueryCursor, type QueryCursor } from './stream/cursor.ts';
import { filterFingerprint, type EventFilter, type StreamEvent } from './stream/events.ts';
import { lanePosition, type Lane } from './stream/merge.ts';
import { readPage } from './stream/query-page.ts';
import { cursorWireBytes, grpcMessageLimit, pageBudget } from './stream/wire-size.ts';
import { int64, keyFilter, optionalTimeMs, tags, topicName } from './stream/schemas.ts';

export const queryInput = z
  .object({
    topic: topicName,
    start_time: optionalTimeMs('start_time'),
    end_time: optionalTimeMs('end_time'),
    limit: int64('limit: a page size from 1 to 10000 (0 for 100)', 0, 10_000).default(0).transform((v) => v || 100),
    cursor: z.string({ error: 'expected a cursor string' }).default(''),
    key_filter: keyFilter,
    tag_filter: tags('tag_filter'),
  })
  .refine((q) => q.start_time === undefined || q.end_time === undefined || q.end_time > q.start_time, {
    error: 'expected end_time after start_time',
    path: ['end_time'],
  });

export interface QueryDeps {
  reader: ReaderPort;
  metrics: Pick<Metrics, 'messagesConsumed'>;
}

export interface QueryResponse {
  events: StreamEvent[];
  /** Empty when the range is exhausted. */
  next_cursor: string;
}

/** Pins the query on its first page: snapshot ends from the high-water marks, starts and ends by time. */
async function startQuery(reader: ReaderPort, topic: string, start: number | undefined, end: number | undefined, filter: string): Promise<QueryCursor> {
  // The high-water marks first: whatever is appended after this instant is outside the query.
  const snapshot = await reader.offsets(topic, 'latest');
  const [from, to] = await Promise.all([
    reader.offsets(topic, start === undefined ? 'earliest' : { timestamp: start }),
    end === undefined ? snapshot : reader.offsets(topic, { timestamp: end }),
  ]);
  const ends = new Map<number, string>();
  const positions = new Map<number, string>();
  for (const [partition, high] of snapshot) {
    const stop = [BigInt(high), BigInt(to.get(partition) ?? high)].reduce((a, b) => (a < b ? a : b));
    const begin = BigInt(from.get(partition) ?? high);
    ends.set(partition, String(stop));
    positions.set(partition, String(begin < stop ? begin : stop));
  }
  return { topic, startTime: start ?? null, endTime: end ?? null, filter, ends, positions, bytesPerRecord: 0 };
}

/**
 * Encoded bytes the events of a page may take: the message limit less the largest cursor this query can answer
 * (positions never have more digits than the snapshot ends, the rate hint is at most 11 characters).
 */
function eventRoom(cursor: QueryCursor): number {
  return grpcMessageLimit - cursorWireBytes(encodeQueryCursor({ ...cursor, positions: cursor.ends, bytesPerRecord: 99_999_999.99 }));
}

/** A cursor continues the query it came from: same topic, same range, same filters. */
function resume(input: z.output<typeof queryInput>, filter: string): QueryCursor {
  const cursor = decodeQueryCursor(input.cursor, input.topic);
  const same = (requested: number | undefined, pinned: number | null) => requested === undefined || requested === pinned;
  if (!same(input.start_time, cursor.startTime) || !same(input.end_time, cursor.endTime) || cursor.filter !== filter) {
    throw invalidArgument([{ field: 'cursor', expected: 'the cursor of a query with the same start_time, end_time and filters', got: 'a cursor of another query' }]);
  }
  return cursor;
}

/**
 * One page of the events stamped in [start_time, end_time). Order: by timestamp, then partition, then offset (a
 * k-way merge of the partitions). The end is fixed on the first page at the high-water marks of that moment, so a
 * query finishes while producers keep writing; the cursor carries that snapshot and the next offset of every
 * partition, so pages neither skip nor repeat an event whatever their sizes.
 */
export const query = defineHandler({
  operation: 'query',
  input: queryInput,
  async run(deps: QueryDeps, input, ctx: CallContext): Promise<QueryResponse> {
    const filter: EventFilter = { key: input.key_filter, tags: input.tag_filter };
    const fingerprint = filterFingerprint(filter);
    const cursor = input.cursor === ''
      ? await startQuery(deps.reader, input.topic, input.start_time, input.end_time, fingerprint)
      : resume(input, fingerprint);
    const lanes: Lane[] = [...cursor.ends].map(([partition, end]) => {
      const at = BigInt(cursor.positions.get(partition) ?? end);
      return { partition, buffer: [], head: 0, fetchAt: at, end: BigInt(end), position: at };
    });
    const maxEventBytes = eventRoom(cursor);
    const { events, bytesPerRecord } = await readPage(deps.reader, {
      topic: input.topic,
      lanes,
      limit: input.limit,
      pageBudget: Math.min(pageBudget, maxEventBytes),
      maxEventBytes,
      filter,
      startTime: cursor.startTime ?? undefined,
      endTime: cursor.endTime ?? undefined,
      signal: ctx.signal,
      bytesPerRecord: cursor.bytesPerRecord,
    });
    if (events.length > 0) deps.metrics.messagesConsumed.inc({ topic: input.topic }, events.length);
    const positions = new Map(lanes.map((l) => [l.partition, String(lanePosition(l))]));
    const done = lanes.every((l) => lanePosition(l) >= l.end);
    // A page always returns an event or reaches the end; a cursor equal to the one given would repeat this page forever.
    if (!done && [...positions].every(([p, o]) => cursor.positions.get(p) === o)) {
      throw new PluginError('INTERNAL', `query page of topic ${input.topic} made no progress`);
    }
    return { events, next_cursor: done ? '' : encodeQueryCursor({ ...cursor, positions, bytesPerRecord }) };
  },
});
