import type { AssignedPartition } from '../kafka/group-port.ts';
import type { PartitionRecords } from '../kafka/reader-port.ts';
import type { ConsumedRecord } from '../kafka/records.ts';
import { decodeAttempts, type StoredAttempts } from './attempts.ts';

/** One partition while this member owns it: where to fetch next and what was fetched but not delivered yet. */
export interface OwnedPartition {
  partition: number;
  /** Names this ownership in receipts: a partition lost and assigned again gets a new one. */
  generation: number;
  /** Where delivery started (the committed offset, or the reset position). */
  start: string;
  /** The next offset to fetch. */
  position: bigint;
  buffer: ConsumedRecord[];
  /** No record delivered yet under this ownership: the first one counts its attempt in the commit metadata. */
  fresh: boolean;
  stored: StoredAttempts | undefined;
}

/** A fetch request's view of the positions, to tell whether its answer still applies when it arrives. */
export type FetchSnapshot = Map<number, { generation: number; position: bigint }>;

/**
 * The partitions this member owns and its positions in them. Delivery resumes from the committed offset after every
 * assignment; an answer fetched for an earlier ownership or an older position is discarded, never delivered.
 */
export class Positions {
  readonly #owned = new Map<number, OwnedPartition>();
  /** The owned partitions in a fixed order, for taking turns (kept with #owned; not rebuilt per record). */
  #turns: OwnedPartition[] = [];
  #generations = 0;
  #cursor = 0;

  get(partition: number): OwnedPartition | undefined {
    return this.#owned.get(partition);
  }

  assign(partitions: AssignedPartition[]): void {
    for (const a of partitions) {
      this.#owned.set(a.partition, {
        partition: a.partition, generation: ++this.#generations, start: a.start, position: BigInt(a.start), buffer: [], fresh: true, stored: decodeAttempts(a.metadata),
      });
    }
    this.#turns = [...this.#owned.values()];
  }

  revoke(partitions: number[]): void {
    for (const p of partitions) this.#owned.delete(p);
    this.#turns = [...this.#owned.values()];
  }

  get partitions(): number[] {
    return [...this.#owned.keys()];
  }

  /** Positions of the partitions with nothing buffered, while fewer than `ahead` records are buffered in all. */
  toFetch(ahead: number): FetchSnapshot {
    const out: FetchSnapshot = new Map();
    let buffered = 0;
    for (const o of this.#owned.values()) buffered += o.buffer.length;
    if (buffered >= ahead) return out;
    for (const o of this.#owned.values()) if (o.buffer.length === 0) out.set(o.partition, { generation: o.generation, position: o.position });
    return out;
  }

  /** Takes in a fetch answer; parts whose ownership or position moved since the request are dropped. */
  apply(answer: PartitionRecords[], asked: FetchSnapshot): void {
    for (const r of answer) {
      const o = this.#owned.get(r.partition);
      const a = asked.get(r.partition);
      if (o === undefined || a === undefined || o.generation !== a.generation || o.position !== a.position) continue;
      for (const record of r.records) if (BigInt(record.offset) >= o.position) o.buffer.push(record);
      const next = BigInt(r.nextOffset);
      if (next > o.position) o.position = next;
    }
  }

  /** The next buffered record, taking partitions in turn so one busy partition cannot starve the others. */
  take(): { owner: OwnedPartition; record: ConsumedRecord } | undefined {
    const all = this.#turns;
    for (let i = 0; i < all.length; i++) {
      const owner = all[(this.#cursor + i) % all.length]!;
      const record = owner.buffer.shift();
      if (record !== undefined) {
        this.#cursor = (this.#cursor + i + 1) % all.length;
        return { owner, record };
      }
    }
    return undefined;
  }
}
