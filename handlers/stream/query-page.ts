import { PluginError } from '../../core/errors.ts';
import type { ReaderPort } from '../../core/kafka/reader-port.ts';
import type { ConsumedRecord } from '../../core/kafka/records.ts';
import { matches, toEvent, type EventFilter, type StreamEvent } from './events.ts';
import { LaneHeap, laneEmpty, type Lane } from './merge.ts';
import { eventWireBytes, grpcMessageLimit } from './wire-size.ts';

export interface PageRequest {
  topic: string;
  lanes: Lane[];
  limit: number;
  /** Encoded bytes of events (wire-size.ts) past which no further event joins the page. */
  pageBudget: number;
  /** Encoded bytes of events no page may pass, even with one event alone (the message limit less the cursor). */
  maxEventBytes: number;
  filter: EventFilter;
  startTime?: number | undefined;
  endTime?: number | undefined;
  signal: AbortSignal;
  /** Wire bytes per record learned by earlier pages (0: unknown). */
  bytesPerRecord: number;
}

/** Fetch rounds in a row that bring nothing for a partition still short of its snapshot end, before giving up. */
const maxStalls = 50;
const stallWaitMs = 100;

/** Keeps the records below the snapshot end (records are in offset order). */
function below(records: ConsumedRecord[], end: bigint): ConsumedRecord[] {
  let n = records.length;
  while (n > 0 && BigInt(records[n - 1]!.offset) >= end) n--;
  return n === records.length ? records : records.slice(0, n);
}

/** Wire bytes per record assumed before any is seen: small, so a first fetch rarely overshoots a page. */
const guessBytesPerRecord = 64;

/**
 * Sizes fetches by records, not bytes: what a page does not use is thrown away (the next page refetches from its
 * cursor), and compressed batches can hold 20 times more records than their size suggests. Each fetch asks for a
 * lane's likely share of what the page still needs, at the wire size per record seen (carried across pages).
 */
export class FetchSizer {
  #bytes: number;
  #records: number;

  constructor(bytesPerRecord: number) {
    // The carried estimate counts as a few hundred records of evidence, so fresh answers soon outweigh it.
    this.#records = bytesPerRecord > 0 ? 256 : 0;
    this.#bytes = bytesPerRecord * this.#records;
  }

  get bytesPerRecord(): number {
    return this.#records === 0 ? 0 : this.#bytes / this.#records;
  }

  learn(bytes: number, records: number): void {
    this.#bytes += bytes;
    this.#records += records;
  }

  /** Bytes per partition for the next fetch, when `remaining` events are still wanted from `lanes` lanes. */
  size(remaining: number, lanes: number): number {
    const wanted = Math.max(64, Math.ceil((remaining / Math.max(1, lanes)) * 1.25));
    return Math.min(1 << 20, Math.max(4 << 10, Math.ceil(wanted * (this.bytesPerRecord || guessBytesPerRecord))));
  }
}

/** Whether a record is returned by the query (in its time range, through its filters). */
function wanted(record: ConsumedRecord, req: PageRequest): boolean {
  if (req.startTime !== undefined && record.timestamp < req.startTime) return false;
  if (req.endTime !== undefined && record.timestamp >= req.endTime) return false;
  return matches(record, req.filter);
}

/** A record no answer can carry: paging cannot pass it, so the query says which one and why instead of looping. */
const tooLarge = (record: ConsumedRecord, size: number, limit: number) => new PluginError(
  'RESOURCE_EXHAUSTED',
  `record ${record.offset} of topic ${record.topic} partition ${record.partition} is ${size} bytes as a Query event, more than the ${limit} bytes `
    + `a Query answer has for events under the gRPC message limit (${grpcMessageLimit} bytes): read it with a Kafka client`,
);

/**
 * Reads one page in merge order: every lane with an empty buffer is refilled (one batched fetch per round) before the
 * next record is taken, so the smallest (timestamp, partition) head is always known. Records outside the time
 * range or the filters are consumed without being returned, so the lanes' positions stay exact for the cursor.
 */
export async function readPage(reader: ReaderPort, req: PageRequest): Promise<{ events: StreamEvent[]; bytesPerRecord: number }> {
  const events: StreamEvent[] = [];
  const byPartition = new Map(req.lanes.map((l) => [l.partition, l]));
  const heap = new LaneHeap();
  for (const lane of req.lanes) if (!laneEmpty(lane)) heap.push(lane);
  const sizer = new FetchSizer(req.bytesPerRecord);
  const fetcher = reader.openFetcher(req.topic);
  let bytes = 0;
  let stalls = 0;
  try {
    while (events.length < req.limit && bytes < req.pageBudget) {
      const starving = req.lanes.filter((l) => laneEmpty(l) && l.fetchAt < l.end);
      if (starving.length > 0) {
        const positions = new Map(starving.map((l) => [l.partition, String(l.fetchAt)]));
        const live = req.lanes.filter((l) => l.fetchAt < l.end || !laneEmpty(l)).length;
        const maxBytesPerPartition = sizer.size(req.limit - events.length, live);
        const answers = await fetcher.fetch(positions, { maxWaitMs: stallWaitMs, maxBytesPerPartition, signal: req.signal });
        let progress = false;
        for (const answer of answers) {
          const lane = byPartition.get(answer.partition);
          if (lane === undefined || !laneEmpty(lane)) continue;
          sizer.learn(answer.bytes, answer.records.length);
          const next = BigInt(answer.nextOffset);
          const records = below(answer.records, lane.end);
          progress ||= next > lane.fetchAt;
          lane.fetchAt = next < lane.end ? next : lane.end;
          if (records.length > 0) {
            lane.buffer = records;
            lane.head = 0;
            heap.push(lane);
          } else {
            lane.position = lane.fetchAt;
          }
        }
        stalls = progress ? 0 : stalls + 1;
        if (stalls > maxStalls) throw new PluginError('UNAVAILABLE', `no progress reading topic ${req.topic} below its snapshot end`, { retryable: true });
        continue;
      }
      if (heap.size === 0) break;
      const record = heap.peek();
      if (!wanted(record, req)) {
        heap.take();
        continue;
      }
      const event = toEvent(record, '');
      const size = eventWireBytes(event);
      // Checked before the event joins: it waits for the next page, which it starts (so that page is never stuck).
      if (events.length > 0 && bytes + size > req.pageBudget) break;
      if (size > req.maxEventBytes) throw tooLarge(record, size, req.maxEventBytes);
      heap.take();
      events.push(event);
      bytes += size;
    }
  } finally {
    await fetcher.close();
  }
  return { events, bytesPerRecord: sizer.bytesPerRecord };
}
