import { PluginError, isPluginError } from '../errors.ts';
import type { CommitOffset, GroupSubscription } from '../kafka/group-port.ts';
import type { ProducerPort } from '../kafka/producer-port.ts';
import type { ConsumedRecord } from '../kafka/records.ts';
import type { Delivery, NackOutcome, SessionOptions } from './session-options.ts';
import { Wakeup } from '../wakeup.ts';
import { AckTracker } from './ack-tracker.ts';
import { FetchLoop } from './fetch-loop.ts';
import { encodeAttempts } from './attempts.ts';
import { writeDeadLetters } from './dead-letter.ts';
import { Positions, type OwnedPartition } from './positions.ts';
import { parseReceipt } from './receipt.ts';
import { Redeliveries, type Redeliverable } from './redeliveries.ts';

export type { Delivery, NackOutcome, SessionEvents, SessionOptions } from './session-options.ts';

interface Entry extends Redeliverable {
  record: ConsumedRecord;
  attempt: number;
  receipt: string;
}

/**
 * One consumer-group member's stream with explicit acknowledgement. The invariant: the group's committed offset of a
 * partition never passes an offset that was neither acknowledged nor dead-lettered. Positions are ours: after every
 * assignment delivery resumes from the committed offset; partitions kept across a rebalance keep their receipts;
 * receipts of a partition this member lost are stale and commit nothing. At most `maxUnacked` messages are out.
 */
export class QueueSession {
  readonly options: SessionOptions;
  readonly #sub: GroupSubscription;
  readonly #producer: ProducerPort;
  readonly #positions = new Positions();
  readonly #tracker = new AckTracker<ConsumedRecord>();
  readonly #entries = new Map<string, Entry>();
  readonly #wake = new Wakeup();
  readonly #redeliveries = new Redeliveries<Entry>(() => this.#wake.notify());
  readonly #closing = new AbortController();
  readonly #fetch: FetchLoop;

  constructor(options: SessionOptions, sub: GroupSubscription, producer: ProducerPort) {
    this.options = options;
    this.#sub = sub;
    this.#producer = producer;
    this.#fetch = new FetchLoop(sub, this.#positions, this.#wake, {
      topic: options.topic, fetchBytes: options.fetchBytes ?? 1_048_576, prefetch: options.prefetch ?? Number.MAX_SAFE_INTEGER, signal: this.#closing.signal,
      fetchFailed: (err) => options.events?.fetchFailed?.(err),
    });
    sub.listen({
      assigned: (partitions) => {
        this.#positions.assign(partitions);
        for (const p of partitions) this.#tracker.reset(p.partition);
        options.events?.rebalanced?.(this.#positions.partitions);
        this.#wake.notify();
      },
      revoked: (partitions) => {
        this.#positions.revoke(partitions);
        for (const p of partitions) this.#tracker.reset(p);
        for (const [receipt, e] of this.#entries) if (partitions.includes(e.record.partition)) this.#entries.delete(receipt);
        options.events?.rebalanced?.(this.#positions.partitions);
        this.#wake.notify();
        return Promise.resolve();
      },
    });
  }

  get unacked(): number {
    return this.#entries.size;
  }

  /** Moves to new broker connections (new credentials) keeping the membership: nothing is redelivered. */
  async reconnect(): Promise<void> {
    await this.#sub.reconnect();
  }

  /** Delivers messages until the signal aborts or the session closes. */
  async *deliveries(signal: AbortSignal): AsyncGenerator<Delivery> {
    const onAbort = () => this.#wake.notify();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted && !this.#closing.signal.aborted) {
        if (this.#fetch.failure !== undefined) throw this.#fetch.failure;
        const again = this.#redeliveries.next();
        if (again !== undefined) {
          if (this.#entries.get(again.receipt) === again) yield this.#deliver(again);
          continue;
        }
        if (this.#entries.size >= this.options.maxUnacked) {
          await this.#wake.wait(1_000);
          continue;
        }
        const next = this.#positions.take();
        if (next === undefined) {
          await this.#fetch.refill();
          continue;
        }
        const entry = await this.#accept(next.owner, next.record);
        if (entry !== undefined) yield this.#deliver(entry);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Acknowledges deliveries; commits each partition up to its lowest unacknowledged offset. */
  async ack(receipts: string[]): Promise<{ acknowledged: number; committed: string[] }> {
    let acknowledged = 0;
    const stale: string[] = [];
    const commits = new Map<number, CommitOffset>();
    for (const receipt of receipts) {
      const entry = this.#entries.get(receipt);
      if (entry === undefined) {
        if (this.isStale(receipt)) stale.push(receipt);
        continue;
      }
      acknowledged++;
      this.#settle(entry, commits);
    }
    this.#wake.notify();
    const committed = await this.#commit(commits);
    if (stale.length > 0) {
      throw new PluginError('FAILED_PRECONDITION', `receipts ${stale.join(', ')}: their partitions were reassigned away from this stream (rebalance); nothing was committed for them and their messages are redelivered to the new owner${acknowledged > 0 ? ` (the other ${acknowledged} receipts were acknowledged)` : ''}`);
    }
    return { acknowledged, committed };
  }

  /**
   * Requeues (with backoff) or dead-letters deliveries; past the attempt limit a requeue dead-letters too. Without
   * `requeue` a delivery is dead-lettered now, even one already waiting for its redelivery (which is called off).
   */
  async nack(receipts: string[], requeue: boolean, reason: string): Promise<{ requeued: number; deadLettered: number; results: { receipt: string; outcome: NackOutcome; error: string }[] }> {
    const results = new Map<string, { outcome: NackOutcome; error: string }>();
    const dead: Entry[] = [];
    const cancelled: Entry[] = [];
    for (const receipt of new Set(receipts)) {
      const entry = this.#entries.get(receipt);
      if (entry === undefined) results.set(receipt, { outcome: this.isStale(receipt) ? 'stale' : 'unknown', error: '' });
      else if (requeue && entry.requeued) results.set(receipt, { outcome: 'requeued', error: '' }); // counted once, however often nacked
      else if (requeue && entry.attempt < this.options.maxAttempts) {
        this.#requeue(entry);
        results.set(receipt, { outcome: 'requeued', error: '' });
      } else {
        // Without requeue a message waiting for its redelivery is dead-lettered now: it must not come back meanwhile.
        if (entry.requeued) {
          this.#redeliveries.cancel(entry);
          cancelled.push(entry);
        }
        dead.push(entry);
      }
    }
    const why = (e: Entry) => (requeue ? `attempts exhausted (${e.attempt}): ${reason}` : reason);
    const failed = await this.#deadLetter(dead, why);
    // A dead letter that could not be written stays unacknowledged; one that was waiting for redelivery waits again.
    for (const e of cancelled) if (failed.has(e.receipt) && this.#entries.get(e.receipt) === e) this.#requeue(e);
    for (const e of dead) results.set(e.receipt, failed.has(e.receipt) ? { outcome: 'failed', error: failed.get(e.receipt)! } : { outcome: 'dead_lettered', error: '' });
    const list = [...results].map(([receipt, r]) => ({ receipt, ...r }));
    if (failed.size > 0) {
      throw new PluginError('UNAVAILABLE', `dead-lettering failed for receipts ${[...failed.keys()].join(', ')} (${[...failed.values()][0]}); those messages stay unacknowledged; the other ${list.length - failed.size} receipts were settled`);
    }
    return { requeued: list.filter((r) => r.outcome === 'requeued').length, deadLettered: list.filter((r) => r.outcome === 'dead_lettered').length, results: list };
  }

  /** Stops delivering; acked offsets were committed as they were acked. `leave` moves the partitions at once. */
  async close(leave: boolean): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#redeliveries.clear();
    this.#wake.notify();
    await this.#sub.close({ leave });
  }

  /** Registers a fetched record as delivered; the first of an ownership counts its attempt in the group first. */
  async #accept(owner: OwnedPartition, record: ConsumedRecord): Promise<Entry | undefined> {
    const first = owner.fresh;
    owner.fresh = false;
    const prior = first && owner.stored?.offset === record.offset ? owner.stored.attempts : 0;
    const entry: Entry = { record, attempt: prior, receipt: `${this.options.id}:${owner.generation}:${record.partition}:${record.offset}`, requeued: false };
    this.#tracker.deliver(record.partition, BigInt(record.offset), record);
    this.#entries.set(entry.receipt, entry);
    if (prior >= this.options.maxAttempts) {
      const failed = await this.#deadLetter([entry], () => `delivered ${prior} times without an acknowledgement (counted across restarts)`);
      return failed.size === 0 ? undefined : entry;
    }
    if (first) {
      // Write-ahead: a consumer that crashes on this message still counts the delivery (ADR 0005).
      await this.#sub.commit(new Map([[record.partition, { offset: owner.start, metadata: encodeAttempts(record.offset, prior + 1) }]])).catch((err: unknown) => this.options.events?.commitFailed?.(err));
    }
    return this.#positions.get(record.partition) === owner ? entry : undefined;
  }

  #deliver(entry: Entry): Delivery {
    entry.attempt++;
    entry.requeued = false;
    this.options.events?.delivered?.(entry.attempt > 1);
    return { record: entry.record, attempt: entry.attempt, receipt: entry.receipt };
  }

  /** Marks a delivery settled (acked or dead-lettered) and notes how far its partition may now commit. */
  #settle(entry: Entry, commits: Map<number, CommitOffset>): void {
    this.#entries.delete(entry.receipt);
    const upTo = this.#tracker.ack(entry.record.partition, BigInt(entry.record.offset));
    if (upTo !== undefined) commits.set(entry.record.partition, { offset: String(upTo.offset + 1n), metadata: '' });
  }

  async #commit(commits: Map<number, CommitOffset>): Promise<string[]> {
    if (commits.size === 0) return [];
    try {
      await this.#sub.commit(commits);
    } catch (err) {
      this.options.events?.commitFailed?.(err);
      const reason = err instanceof Error ? err.message : String(err);
      // The caller must know: these messages may come again (to this member, or to the partition's new owner).
      throw new PluginError(isPluginError(err) && err.code === 'FAILED_PRECONDITION' ? 'FAILED_PRECONDITION' : 'UNAVAILABLE', `acknowledged, but committing the offsets failed (${reason}); the messages may be delivered again`, { cause: err, retryable: false });
    }
    return [...commits].map(([p, c]) => `${this.options.topic}/${p}=${c.offset}`);
  }

  #requeue(entry: Entry): void {
    const { initialMs, maxMs, factor } = this.options.backoff;
    this.#redeliveries.schedule(entry, Math.min(maxMs, initialMs * factor ** (entry.attempt - 1)));
  }

  /** Dead-letters in one request; settles those the broker stored. Returns receipt → error of the others. */
  async #deadLetter(entries: Entry[], why: (e: Entry) => string): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    if (entries.length === 0) return failed;
    const errors = await writeDeadLetters(this.#producer, this.options.deadLetterTopic, entries.map((e) => ({ record: e.record, attempts: e.attempt, reason: why(e) })));
    const commits = new Map<number, CommitOffset>();
    entries.forEach((e, i) => {
      const error = errors[i];
      if (error !== undefined) failed.set(e.receipt, error);
      else {
        this.options.events?.deadLettered?.(why(e));
        if (this.#entries.get(e.receipt) === e) this.#settle(e, commits);
      }
    });
    this.#wake.notify();
    await this.#commit(commits).catch(() => undefined);
    return failed;
  }

  /**
   * A receipt of this session whose partition ownership has ended (or changed) since it was delivered: nothing can
   * be committed for it any more, and the partition's current owner delivers its message again.
   */
  isStale(receipt: string): boolean {
    const r = parseReceipt(receipt);
    return r !== undefined && this.#positions.get(r.partition)?.generation !== r.generation;
  }
}
