import { PluginError } from '../../core/errors.ts';
import type { AssignedPartition, CommitOffset, GroupSubscription, MembershipListener } from '../../core/kafka/group-port.ts';
import type { FetchOptions, PartitionRecords } from '../../core/kafka/reader-port.ts';
import type { ConsumedRecord } from '../../core/kafka/records.ts';

/** Where a fake subscription reads: records of a partition (offset order) and a wait for new ones. */
export interface FakeSource {
  records(partition: number): ConsumedRecord[];
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A group member driven by the test: push records, assign and revoke partitions (revocation waits for the listener
 * as the real member does), observe commits. Honours the port's contract: fetch answers only owned partitions, a
 * commit for a partition not owned is refused with FAILED_PRECONDITION.
 */
export class FakeSubscription implements GroupSubscription {
  readonly commits: { partition: number; offset: string; metadata: string }[] = [];
  closed: { leave: boolean } | undefined;
  failCommits = false;
  reconnects = 0;
  readonly #pushed = new Map<number, ConsumedRecord[]>();
  readonly #owned = new Set<number>();
  readonly #assigned = new Map<number, AssignedPartition>();
  #listener: MembershipListener | undefined;
  #wake: (() => void)[] = [];
  readonly #source: FakeSource;

  constructor(source?: FakeSource) {
    this.#source = source ?? {
      records: (p) => this.#pushed.get(p) ?? [],
      waitForAppend: (ms) => new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    };
  }

  push(partition: number, offset: number, value = `v${partition}-${offset}`): void {
    const list = this.#pushed.get(partition) ?? [];
    list.push({ topic: 't', partition, offset: String(offset), timestamp: 1_000 + offset, key: undefined, value: Buffer.from(value), headers: [['prism-message-id', Buffer.from(`id-${partition}-${offset}`)]] });
    this.#pushed.set(partition, list);
    for (const w of this.#wake.splice(0)) w();
  }

  /** Assigns partitions starting at `start` (the committed offset), with optional committed metadata. */
  assign(partitions: number[], start = '0', metadata = ''): void {
    const added = partitions.filter((p) => !this.#owned.has(p)).map((partition) => ({ partition, start, committed: start !== '0', metadata }));
    for (const a of added) {
      this.#owned.add(a.partition);
      this.#assigned.set(a.partition, a);
    }
    if (added.length > 0) this.#listener?.assigned(added);
  }

  async revoke(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      this.#owned.delete(p);
      this.#assigned.delete(p);
    }
    await this.#listener?.revoked(partitions);
  }

  get owned(): number[] {
    return [...this.#owned];
  }

  listen(listener: MembershipListener): void {
    this.#listener = listener;
    if (this.#assigned.size > 0) listener.assigned([...this.#assigned.values()]);
  }

  async fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]> {
    const until = Date.now() + options.maxWaitMs;
    for (;;) {
      if (this.closed !== undefined || options.signal?.aborted === true) throw new PluginError('CANCELLED', 'the read was cancelled');
      const out: PartitionRecords[] = [];
      for (const [partition, from] of positions) {
        if (!this.#owned.has(partition)) continue;
        const records = this.#source.records(partition).filter((r) => BigInt(r.offset) >= BigInt(from));
        if (records.length > 0) out.push({ partition, records, nextOffset: String(BigInt(records.at(-1)!.offset) + 1n), bytes: 0 });
      }
      if (out.length > 0 || Date.now() >= until) return out;
      await this.#source.waitForAppend(Math.max(1, until - Date.now()), options.signal);
    }
  }

  commit(offsets: ReadonlyMap<number, CommitOffset>): Promise<void> {
    if (this.failCommits) return Promise.reject(new PluginError('UNAVAILABLE', 'commit failed: COORDINATOR_NOT_AVAILABLE'));
    const notOwned = [...offsets.keys()].filter((p) => !this.#owned.has(p));
    if (notOwned.length > 0) return Promise.reject(new PluginError('FAILED_PRECONDITION', `partitions ${notOwned.join(', ')} are no longer assigned to this member`));
    for (const [partition, c] of offsets) this.commits.push({ partition, offset: c.offset, metadata: c.metadata });
    return Promise.resolve();
  }

  /** Offsets committed without metadata (acks), as "partition=offset". */
  get acked(): string[] {
    return this.commits.filter((c) => c.metadata === '').map((c) => `${c.partition}=${c.offset}`);
  }

  reconnect(): Promise<void> {
    this.reconnects++;
    return Promise.resolve();
  }

  close(options: { leave: boolean }): Promise<void> {
    this.closed = options;
    for (const w of this.#wake.splice(0)) w();
    return Promise.resolve();
  }
}
