import { createHash } from 'node:crypto';
import type { ConsumedRecord } from '../../core/kafka/records.ts';

/** One event as Tail and Query deliver it (field names as in stream_basic.proto). */
export interface StreamEvent {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer;
  payload: Buffer;
  /** The record's headers; a repeated name keeps its last value. */
  tags: Record<string, string>;
  /** Tail: where to resume after this event. Query: empty (pages carry the cursor). */
  cursor: string;
}

export interface EventFilter {
  key?: Buffer | undefined;
  tags: Record<string, string>;
}

const EMPTY = Buffer.alloc(0);
/** Shared by every event without tags (read-only downstream): one object less per event. */
const NO_TAGS: Record<string, string> = Object.freeze({});

/** Whether a record passes the key and tag filters (a record without a key has the empty key). */
export function matches(record: ConsumedRecord, filter: EventFilter): boolean {
  if (filter.key !== undefined && !filter.key.equals(record.key ?? EMPTY)) return false;
  for (const name in filter.tags) {
    // The last header of a name wins, as in the event's tags.
    let value: Buffer | undefined;
    for (const [n, v] of record.headers) if (n === name) value = v;
    if (value === undefined || value.toString('utf8') !== filter.tags[name]) return false;
  }
  return true;
}

/** Short stable digest of a filter: a query cursor must be used with the filter it was made with. */
export function filterFingerprint(filter: EventFilter): string {
  const tags = Object.entries(filter.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const doc = JSON.stringify({ k: filter.key?.toString('base64') ?? null, t: tags });
  return createHash('sha256').update(doc).digest('base64url').slice(0, 16);
}

/** A consumed record as an event. */
export function toEvent(record: ConsumedRecord, cursor: string): StreamEvent {
  let tags = NO_TAGS;
  if (record.headers.length > 0) {
    tags = {};
    for (const [name, value] of record.headers) tags[name] = value.toString('utf8');
  }
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key ?? EMPTY,
    payload: record.value,
    tags,
    cursor,
  };
}
