import { PluginError } from '../errors.ts';
import type { GroupRecord, GroupSubscription, SubscribeOptions } from '../kafka/group-port.ts';
import type { ProducerPort } from '../kafka/producer-port.ts';
import { AckTracker } from './ack-tracker.ts';
import { Signal } from './signal.ts';

export interface SessionOptions {
  id: string;
  topic: string;
  group: string;
  maxUnacked: number;
  /** Deliveries before a message goes to the dead-letter topic (1 + max retries). */
  maxAttempts: number;
  deadLetterTopic: string;
  backoff: { initialMs: number; maxMs: number; factor: number };
  /** Observers for metrics and logs. */
  events?: SessionEvents;
  /** How this session's group subscription was made, to make it again after a credential rotation. */
  subscribe?: SubscribeOptions;
}

export interface SessionEvents {
  delivered?(redelivery: boolean): void;
  deadLettered?(reason: string): void;
  commitFailed?(error: unknown): void;
  rebalanced?(partitions: number[]): void;
}

export interface Delivery {
  record: GroupRecord;
  attempt: number;
  receipt: string;
}

interface Entry {
  record: GroupRecord;
  attempt: number;
  generation: number;
}

const dlqHeaders = { reason: 'prism-dlq-reason', attempts: 'prism-dlq-attempts', source: 'prism-dlq-source' };

/**
 * One consumer-group subscription with explicit acknowledgement. At most `maxUnacked` messages are delivered and
 * not yet acknowledged (backpressure: nothing is dropped, the subscription simply stops fetching). Acks commit the
 * group's offset up to the lowest unacknowledged offset of each partition. A nack requeues (redelivered with the
 * next attempt number, after a backoff) or dead-letters. After a rebalance, receipts of the old assignment no longer
 * commit anything: their records are redelivered from the last committed offset, to this member or the new owner.
 */
export class QueueSession {
  readonly options: SessionOptions;
  #sub: GroupSubscription;
  readonly #producer: ProducerPort;
  readonly #tracker = new AckTracker<GroupRecord>();
  readonly #entries = new Map<string, Entry>();
  readonly #ready: Entry[] = [];
  readonly #wake = new Signal();
  #generation = 0;
  #assigned = new Set<number>();
  #pending: { sub: GroupSubscription; next: Promise<IteratorResult<GroupRecord>> } | undefined;
  #closed = false;
  #replacing = false;
  #timers = new Set<NodeJS.Timeout>();

  constructor(options: SessionOptions, sub: GroupSubscription, producer: ProducerPort) {
    this.options = options;
    this.#sub = sub;
    this.#producer = producer;
    this.#listen(sub);
  }

  #listen(sub: GroupSubscription): void {
    sub.onAssigned((partitions) => {
      if (sub !== this.#sub) return;
      // The stream refetches from the committed offsets after every join: outstanding receipts are void.
      this.#generation++;
      this.#assigned = new Set(partitions);
      this.#tracker.reset();
      this.#entries.clear();
      this.#ready.length = 0;
      this.options.events?.rebalanced?.(partitions);
      this.#wake.notify();
    });
  }

  /**
   * Moves the session to a new group subscription (new credentials) under the same static member id, so the group
   * does not rebalance: the old member closes without leaving, the new one takes its place. Acknowledged offsets
   * were committed as they were acknowledged; unacknowledged messages are delivered again by the new subscription.
   */
  async resubscribe(subscribe: () => Promise<GroupSubscription>): Promise<void> {
    if (this.#closed) return;
    const old = this.#sub;
    this.#replacing = true;
    let next: GroupSubscription;
    try {
      await old.close({ leave: false });
      next = await subscribe();
    } finally {
      this.#replacing = false;
      this.#wake.notify();
    }
    if (this.#closed) {
      await next.close({ leave: false });
      return;
    }
    this.#sub = next;
    this.#tracker.reset();
    this.#entries.clear();
    this.#ready.length = 0;
    this.#listen(next);
    this.#wake.notify();
  }

  get unacked(): number {
    return this.#entries.size;
  }

  /** Delivers messages until the signal aborts or the session closes. */
  async *deliveries(signal: AbortSignal): AsyncGenerator<Delivery> {
    const onAbort = () => this.#wake.notify();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted && !this.#closed) {
        const again = this.#ready.shift();
        if (again !== undefined) {
          if (this.#entries.get(this.#receipt(again)) !== again) continue; // voided by a rebalance
          yield this.#delivery(again);
          continue;
        }
        if (this.#entries.size >= this.options.maxUnacked) {
          await this.#wake.wait();
          continue;
        }
        if (this.#pending?.sub !== this.#sub) this.#pending = { sub: this.#sub, next: this.#sub.records.next() };
        const { sub } = this.#pending;
        const woke = this.#wake.wait().then(() => undefined);
        const next = await Promise.race([this.#pending.next, woke]);
        if (next === undefined) continue;
        this.#pending = undefined;
        // The end of a subscription being replaced (resubscribe) is not the end of the session.
        if (next.done === true) {
          if (this.#replacing) await this.#wake.wait();
          if (sub !== this.#sub || this.#replacing) continue;
          return;
        }
        if (sub !== this.#sub) continue; // fetched by the old member: the new one delivers it again
        const entry = this.#accept(next.value);
        if (entry !== undefined) yield this.#delivery(entry);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Acknowledges deliveries; commits each partition up to its lowest unacknowledged offset. */
  async ack(receipts: string[]): Promise<{ acknowledged: number; committed: string[] }> {
    let acknowledged = 0;
    const commits = new Map<number, GroupRecord>();
    for (const receipt of receipts) {
      const entry = this.#entries.get(receipt);
      if (entry === undefined) continue;
      this.#entries.delete(receipt);
      acknowledged++;
      const upTo = this.#tracker.ack(entry.record.partition, BigInt(entry.record.offset));
      if (upTo !== undefined) commits.set(entry.record.partition, upTo.item);
    }
    this.#wake.notify();
    const committed: string[] = [];
    const failed: unknown[] = [];
    await Promise.all([...commits.values()].map(async (record) => {
      try {
        await record.commit();
        committed.push(`${record.topic}/${record.partition}=${BigInt(record.offset) + 1n}`);
      } catch (err) {
        failed.push(err);
        this.options.events?.commitFailed?.(err);
      }
    }));
    if (failed.length > 0) {
      // The caller must know: these messages may come again (to this member after a rejoin, or to another).
      throw new PluginError('UNAVAILABLE', `acknowledged, but committing the offsets failed (${String((failed[0] as Error)?.message ?? failed[0])}); the messages may be delivered again`, { cause: failed[0], retryable: false });
    }
    return { acknowledged, committed };
  }

  /** Requeues (with backoff) or dead-letters deliveries; past the attempt limit a requeue dead-letters too. */
  async nack(receipts: string[], requeue: boolean, reason: string): Promise<{ requeued: number; deadLettered: number }> {
    let requeued = 0;
    const dead: { receipt: string; entry: Entry }[] = [];
    for (const receipt of receipts) {
      const entry = this.#entries.get(receipt);
      if (entry === undefined) continue;
      if (requeue && entry.attempt < this.options.maxAttempts) {
        requeued++;
        this.#requeue(entry);
      } else dead.push({ receipt, entry });
    }
    for (const { receipt, entry } of dead) await this.#deadLetter(receipt, entry, requeue ? `attempts exhausted (${entry.attempt}): ${reason}` : reason);
    return { requeued, deadLettered: dead.length };
  }

  /** Stops delivering; acked offsets were committed as they were acked. `leave` moves the partitions at once. */
  async close(leave: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#wake.notify();
    await this.#sub.close({ leave });
  }


  #accept(record: GroupRecord): Entry | undefined {
    if (!this.#assigned.has(record.partition)) return undefined; // fetched before a revocation
    const last = this.#tracker.lastDelivered(record.partition);
    if (last !== undefined && BigInt(record.offset) <= last) return undefined; // refetched duplicate
    const entry: Entry = { record, attempt: 0, generation: this.#generation };
    this.#tracker.deliver(record.partition, BigInt(record.offset), record);
    this.#entries.set(this.#receipt(entry), entry);
    return entry;
  }

  #delivery(entry: Entry): Delivery {
    entry.attempt++;
    this.options.events?.delivered?.(entry.attempt > 1);
    return { record: entry.record, attempt: entry.attempt, receipt: this.#receipt(entry) };
  }

  #requeue(entry: Entry): void {
    const { initialMs, maxMs, factor } = this.options.backoff;
    const delay = Math.min(maxMs, initialMs * factor ** (entry.attempt - 1));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#ready.push(entry);
      this.#wake.notify();
    }, delay);
    this.#timers.add(timer);
  }

  async #deadLetter(receipt: string, entry: Entry, reason: string): Promise<void> {
    const { record } = entry;
    const [outcome] = await this.#producer.produce([{
      topic: this.options.deadLetterTopic,
      ...(record.key === undefined ? {} : { key: record.key }),
      value: record.value,
      headers: [
        ...record.headers,
        [dlqHeaders.reason, Buffer.from(reason)],
        [dlqHeaders.attempts, Buffer.from(String(entry.attempt))],
        [dlqHeaders.source, Buffer.from(`${record.topic}/${record.partition}/${record.offset}`)],
      ],
    }], {});
    if (outcome?.ok !== true) {
      throw new PluginError('UNAVAILABLE', `dead-lettering ${record.topic}/${record.partition}/${record.offset} failed: ${outcome?.error.message ?? 'no answer'}; the message stays unacknowledged`, { cause: outcome?.ok === false ? outcome.error : undefined });
    }
    this.options.events?.deadLettered?.(reason);
    await this.ack([receipt]);
  }

  #receipt(entry: Entry): string {
    return `${this.options.id}:${entry.generation}:${entry.record.partition}:${entry.record.offset}`;
  }
}
