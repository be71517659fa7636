import type { ConsumedRecord } from '../../core/kafka/records.ts';

/**
 * One partition's side of a query: records fetched but not yet merged, where fetching continues, and the position
 * of the next record not yet merged (what a cursor stores).
 */
export interface Lane {
  partition: number;
  buffer: ConsumedRecord[];
  /** Index of the head record in `buffer`. */
  head: number;
  /** Next offset to fetch. */
  fetchAt: bigint;
  /** Snapshot end (exclusive). */
  end: bigint;
  /** Next offset not yet merged, while the buffer is empty (see lanePosition). */
  position: bigint;
}

/** Next offset not yet merged: past the last record taken, or the stored position when nothing is buffered. */
export function lanePosition(lane: Lane): bigint {
  return lane.head > 0 && lane.head <= lane.buffer.length ? BigInt(lane.buffer[lane.head - 1]!.offset) + 1n : lane.position;
}

export const laneEmpty = (lane: Lane) => lane.head >= lane.buffer.length;
export const laneDone = (lane: Lane) => laneEmpty(lane) && lane.fetchAt >= lane.end;

/** The merge order: timestamp, then partition (offsets already increase within a lane). */
function before(a: Lane, b: Lane): boolean {
  const ra = a.buffer[a.head]!;
  const rb = b.buffer[b.head]!;
  return ra.timestamp < rb.timestamp || (ra.timestamp === rb.timestamp && a.partition < b.partition);
}

/**
 * A binary min-heap of lanes by their head record: a k-way merge costs O(log k) per record. Lanes with an empty
 * buffer are not in the heap; the caller refills them before taking again, so the order stays exact.
 */
export class LaneHeap {
  readonly #items: Lane[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(lane: Lane): void {
    const items = this.#items;
    items.push(lane);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      const swap = items[i]!;
      items[i] = items[parent]!;
      items[parent] = swap;
      i = parent;
    }
  }

  /** The smallest head record, left in place: a page that has no room for it stops before it. */
  peek(): ConsumedRecord {
    const lane = this.#items[0]!;
    return lane.buffer[lane.head]!;
  }

  /** Takes the smallest head record; its lane leaves the heap when its buffer runs empty. */
  take(): { lane: Lane; record: ConsumedRecord } {
    const items = this.#items;
    const lane = items[0]!;
    const record = lane.buffer[lane.head++]!;
    if (laneEmpty(lane)) {
      // Everything fetched is merged: skip markers and compaction gaps up to where fetching continues.
      lane.position = lane.fetchAt;
      lane.buffer = [];
      lane.head = 0;
      // The lane is at the root; the last item takes its place (or the heap is now empty).
      const last = items.pop()!;
      if (items.length > 0) items[0] = last;
    }
    this.#down(0);
    return { lane, record };
  }

  #down(start: number): void {
    const items = this.#items;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && before(items[l]!, items[m]!)) m = l;
      if (r < items.length && before(items[r]!, items[m]!)) m = r;
      if (m === i) return;
      const swap = items[i]!;
      items[i] = items[m]!;
      items[m] = swap;
      i = m;
    }
  }
}
