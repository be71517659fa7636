import type { Consumer } from '@platformatic/kafka';
import type { PartitionRecords } from './reader-port.ts';
import type { ConsumedRecord } from './records.ts';

/** A Fetch answer as the client decodes it. */
export type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

/** Record batch attribute bits (Kafka protocol, RecordBatch.attributes). */
const LOG_APPEND_TIME = 0x08;
const CONTROL_BATCH = 0x20;
const EMPTY = Buffer.alloc(0);
/** Shared by every record without headers: most records have none, and each array would be garbage. */
const NO_HEADERS: [string, Buffer][] = [];
/** Record batch header before its `length` field: base offset (8) and the length itself (4). */
const BATCH_PREFIX = 12;

/** Flattens one Fetch answer into our records, dropping what precedes the requested offset (batch granularity). */
export function toPartitionRecords(topic: string, response: FetchResponse, wanted: Map<number, bigint>): PartitionRecords[] {
  const out: PartitionRecords[] = [];
  for (const t of response.responses) {
    for (const p of t.partitions) {
      const from = wanted.get(p.partitionIndex);
      if (from === undefined) continue;
      let next = from;
      let bytes = 0;
      const records: ConsumedRecord[] = [];
      for (const batch of p.records ?? []) {
        bytes += BATCH_PREFIX + batch.length;
        const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        if (end > next) next = end;
        if ((batch.attributes & CONTROL_BATCH) !== 0) continue;
        // Numbers are exact below 2^53 and far cheaper per record than bigint arithmetic.
        const base = Number(batch.firstOffset);
        const first = Number(batch.firstTimestamp);
        const appendTime = (batch.attributes & LOG_APPEND_TIME) !== 0 ? Number(batch.maxTimestamp) : undefined;
        for (const r of batch.records) {
          const offset = Number.isSafeInteger(base + r.offsetDelta) ? base + r.offsetDelta : batch.firstOffset + BigInt(r.offsetDelta);
          if (offset < from) continue;
          records.push({
            topic,
            partition: p.partitionIndex,
            offset: String(offset),
            timestamp: appendTime ?? first + Number(r.timestampDelta),
            key: r.key ?? undefined,
            value: r.value ?? EMPTY,
            headers: r.headers.length === 0 ? NO_HEADERS : r.headers.map(([name, value]): [string, Buffer] => [name?.toString() ?? '', value ?? EMPTY]),
          });
        }
      }
      out.push({ partition: p.partitionIndex, records, nextOffset: String(next), bytes });
    }
  }
  return out;
}
