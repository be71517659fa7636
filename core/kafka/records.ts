/**
 * Our own record types at the Kafka port. Offsets are decimal strings (64-bit, exact, JSON- and proto-friendly);
 * timestamps are Unix epoch milliseconds; keys, values and header values are Buffers.
 */

/** Headers keep order and may repeat a name, as Kafka allows. */
export type RecordHeaders = [name: string, value: Buffer][];

export interface RecordToProduce {
  topic: string;
  /** Explicit partition; otherwise chosen from the key (Java-compatible murmur2) or sticky per batch. */
  partition?: number;
  key?: Buffer;
  value: Buffer;
  headers: RecordHeaders;
  /** Record timestamp in ms; the broker's append time or the send time when absent. */
  timestamp?: number;
}

/** The broker's acknowledgment of one record. With acks=0 the broker says nothing, so offset is undefined. */
export interface ProduceAck {
  topic: string;
  partition: number;
  offset: string | undefined;
  timestamp: number;
}

/** One record's outcome in a batch: every record gets its own answer. */
export type ProduceOutcome = { ok: true; ack: ProduceAck } | { ok: false; error: Error };

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | undefined;
  value: Buffer;
  headers: RecordHeaders;
}

/** Approximate wire size of a record (for batch limits): value + key + headers + per-record overhead. */
export function recordSize(r: Pick<RecordToProduce, 'key' | 'value' | 'headers'>): number {
  let size = 70 + r.value.length + (r.key?.length ?? 0);
  for (const [name, value] of r.headers) size += Buffer.byteLength(name) + value.length + 10;
  return size;
}
