import type { Consumer } from '@platformatic/kafka';
import type { PartitionRecords } from './reader-port.ts';
import type { ConsumedRecord } from './records.ts';

/** A Fetch answer as the client decodes it. */
export type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

type FetchPartition = FetchResponse['responses'][number]['partitions'][number];
type Batch = NonNullable<FetchPartition['records']>[number];

/** Record batch attribute bits (Kafka protocol, RecordBatch.attributes). */
const LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL_BATCH = 0x20;
/** Control record key: version (int16) then type (int16); type 0 is ABORT, 1 is COMMIT (Kafka ControlRecordType). */
const ABORT_MARKER = 0;
const EMPTY = Buffer.alloc(0);
/** Shared by every record without headers: most records have none, and each array would be garbage. */
const NO_HEADERS: [string, Buffer][] = [];
/** Record batch header before its `length` field: base offset (8) and the length itself (4). */
const BATCH_PREFIX = 12;

/** Whether a control batch is the abort marker of its producer's transaction. */
const isAbortMarker = (batch: Batch) => batch.records[0]?.key?.length === 4 && batch.records[0].key.readInt16BE(2) === ABORT_MARKER;

/**
 * The read_committed walk of one partition's batches, as the Java client does it. The broker lists, for the
 * fetched range, every aborted transaction overlapping it (producer, first offset), whether or not its abort marker
 * is in this answer: a transactional batch of producer P is aborted from the first listed offset of P up to P's
 * abort marker. The walk needs nothing from earlier answers, so it is right whatever the fetch size. (The client
 * library's own filter only drops a range whose marker is in the same answer, and keeps one range per producer.)
 * Under read_uncommitted the broker lists nothing and every batch is kept.
 */
class AbortedBatches {
  readonly #pending: { producerId: bigint; firstOffset: bigint }[];
  readonly #producers = new Set<bigint>();
  #next = 0;

  constructor(partition: FetchPartition) {
    this.#pending = [...(partition.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** Call for every batch in offset order; true when its records belong to an aborted transaction. */
  skip(batch: Batch, lastOffset: bigint): boolean {
    if (this.#pending.length === 0) return false;
    while (this.#next < this.#pending.length && this.#pending[this.#next]!.firstOffset <= lastOffset) this.#producers.add(this.#pending[this.#next++]!.producerId);
    if ((batch.attributes & CONTROL_BATCH) !== 0) {
      // Past its abort marker, the producer's later batches are another transaction.
      if (isAbortMarker(batch)) this.#producers.delete(batch.producerId);
      return false;
    }
    return (batch.attributes & TRANSACTIONAL) !== 0 && this.#producers.has(batch.producerId);
  }
}

/**
 * Flattens one Fetch answer into our records: those at or after the requested offset (the broker answers whole
 * batches), without transaction markers nor the records of aborted transactions; `nextOffset` is past every batch.
 */
export function toPartitionRecords(topic: string, response: FetchResponse, wanted: Map<number, bigint>): PartitionRecords[] {
  const out: PartitionRecords[] = [];
  for (const t of response.responses) {
    for (const p of t.partitions) {
      const from = wanted.get(p.partitionIndex);
      if (from === undefined) continue;
      let next = from;
      let bytes = 0;
      const records: ConsumedRecord[] = [];
      const aborted = new AbortedBatches(p);
      for (const batch of p.records ?? []) {
        bytes += BATCH_PREFIX + batch.length;
        const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (last + 1n > next) next = last + 1n;
        if (aborted.skip(batch, last) || (batch.attributes & CONTROL_BATCH) !== 0) continue;
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
