import { z } from 'zod';
import { invalidArgument, showValue } from '../../core/errors.ts';
import { topicName } from './schemas.ts';

/**
 * Cursors: opaque to callers, versioned, base64url of a small JSON document, validated field by field on decode.
 * A tail cursor holds the topic and, per partition, the next offset to deliver; a query cursor also pins the query
 * (time range, filter fingerprint) and its snapshot end per partition, so paging never moves past the snapshot.
 */

const version = 1;
/** Far more than any real cursor (a few bytes per partition); refuses abuse before decoding. */
const maxLength = 65_536;

/** partition → next offset (decimal string). */
export type Positions = Map<number, string>;

export interface TailCursor {
  topic: string;
  positions: Positions;
}

export interface QueryCursor {
  topic: string;
  startTime: number | null;
  endTime: number | null;
  /** Fingerprint of the key and tag filters the query was started with. */
  filter: string;
  /** partition → snapshot end offset (exclusive). */
  ends: Positions;
  positions: Positions;
  /** Wire bytes per record seen so far (0: none yet): sizes the next page's first fetch. A hint, not a position. */
  bytesPerRecord: number;
}

/** Bound of the bytes-per-record hint: fetches skipping aborted transactions bring bytes but no records. */
const maxHint = 1e8;

const offsetText = z.string().regex(/^\d{1,19}$/);
const entries = z
  .array(z.tuple([z.number().int().min(0).max(1_000_000), offsetText]))
  .max(100_000)
  .refine((list) => new Set(list.map(([p]) => p)).size === list.length);
const time = z.number().int().min(0).nullable();

const tailDoc = z.strictObject({ v: z.literal(version), k: z.literal('t'), t: topicName, p: entries });
const queryDoc = z.strictObject({ v: z.literal(version), k: z.literal('q'), t: topicName, s: time, e: time, f: z.string().max(64), x: entries, p: entries, h: z.number().min(0).max(maxHint) });

const toEntries = (positions: Positions) => [...positions].sort(([a], [b]) => a - b);
const encode = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');

/** Encodes a tail position: the topic and the next offset of every partition. */
export function encodeTailCursor(cursor: TailCursor): string {
  return encode({ v: version, k: 't', t: cursor.topic, p: toEntries(cursor.positions) });
}

/** Encodes a query page boundary. */
export function encodeQueryCursor(c: QueryCursor): string {
  return encode({ v: version, k: 'q', t: c.topic, s: c.startTime, e: c.endTime, f: c.filter, x: toEntries(c.ends), p: toEntries(c.positions), h: Math.round(Math.min(c.bytesPerRecord, maxHint) * 100) / 100 });
}

function parse(text: string, kind: 'Tail' | 'Query'): unknown {
  const bad = () => invalidArgument([{ field: 'cursor', expected: `a cursor returned by an earlier ${kind} call`, got: showValue(text, 40) }]);
  if (text.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad();
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalidArgument([{ field: 'cursor', expected: `a cursor returned by an earlier ${kind} call`, got: showValue(text, 40) }], err);
  }
}

function check<T>(schema: z.ZodType<T>, text: string, kind: 'Tail' | 'Query'): T {
  const result = schema.safeParse(parse(text, kind));
  if (!result.success) throw invalidArgument([{ field: 'cursor', expected: `a cursor returned by an earlier ${kind} call`, got: showValue(text, 40) }], result.error);
  return result.data;
}

/** Decodes a tail cursor; INVALID_ARGUMENT when malformed, of another kind or version, or for another topic. */
export function decodeTailCursor(text: string, topic: string): TailCursor {
  const doc = check(tailDoc, text, 'Tail');
  if (doc.t !== topic) throw invalidArgument([{ field: 'cursor', expected: `a cursor of topic ${topic}`, got: `a cursor of topic ${doc.t}` }]);
  return { topic: doc.t, positions: new Map(doc.p) };
}

/** Decodes a query cursor; INVALID_ARGUMENT when malformed, of another kind or version, or for another topic. */
export function decodeQueryCursor(text: string, topic: string): QueryCursor {
  const doc = check(queryDoc, text, 'Query');
  if (doc.t !== topic) throw invalidArgument([{ field: 'cursor', expected: `a cursor of topic ${topic}`, got: `a cursor of topic ${doc.t}` }]);
  const ends = new Map(doc.x);
  const positions = new Map(doc.p);
  for (const [p, o] of positions) {
    const end = ends.get(p);
    if (end === undefined || BigInt(o) > BigInt(end)) throw invalidArgument([{ field: 'cursor', expected: 'a cursor returned by an earlier Query call', got: 'positions outside its snapshot' }]);
  }
  return { topic: doc.t, startTime: doc.s, endTime: doc.e, filter: doc.f, ends, positions, bytesPerRecord: doc.h };
}
