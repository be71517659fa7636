import type { StreamEvent } from './events.ts';

/**
 * Sizes of Query answers as protobuf encodes them (stream_basic.proto, QueryResponse): what a gRPC client counts
 * against its receive limit. Computed, not encoded: a page is sized record by record before it is built.
 * Every field is counted as present (protobufjs, under grpc-js, writes proto3 defaults it is given), so the
 * figures are exact for our encoder and an upper bound for any other.
 */

/**
 * The message limit a Query answer must stay under: gRPC's default receive limit (4 MiB), which every stock client
 * applies. The server sets no send limit of its own (adapters/grpc/server.ts sets only the receive one), so this
 * is the limit a caller meets.
 */
export const grpcMessageLimit = 4 << 20;

/** Where a page closes: a quarter of the limit is left so that a large record still fits beside a nearly full page. */
export const pageBudget = (grpcMessageLimit / 4) * 3;

/** Bytes of a varint holding `value` (an int64: negative values take 10 bytes). */
function varintBytes(value: number | bigint): number {
  if (value < 0) return 10;
  let n = 1;
  if (typeof value === 'bigint') {
    for (let v = value; v >= 128n; v >>= 7n) n++;
  } else {
    for (let v = value; v >= 128; v = Math.floor(v / 128)) n++;
  }
  return n;
}

/** Offsets are decimal strings; those of 15 digits or fewer are exact as numbers, which are far cheaper. */
const offsetBytes = (offset: string) => varintBytes(offset.length <= 15 ? Number(offset) : BigInt(offset));

/** A length-delimited field with a one-byte tag (field numbers below 16): tag, length, content. */
const delimited = (length: number) => 1 + varintBytes(length) + length;
const text = (value: string) => delimited(Buffer.byteLength(value, 'utf8'));

/** Bytes one event adds to a QueryResponse: its `events` field (tag, length) and the StreamEvent inside. */
export function eventWireBytes(event: StreamEvent): number {
  let body = text(event.topic)
    + 1 + varintBytes(event.partition)
    + 1 + offsetBytes(event.offset)
    + 1 + varintBytes(event.timestamp)
    + delimited(event.key.length)
    + delimited(event.payload.length)
    + text(event.cursor);
  // A map is a repeated message of (key = 1, value = 2) entries.
  for (const name in event.tags) body += delimited(text(name) + text(event.tags[name]!));
  return delimited(body);
}

/** Bytes the `next_cursor` field adds to a QueryResponse. */
export const cursorWireBytes = (cursor: string) => text(cursor);
