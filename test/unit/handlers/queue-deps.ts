import type { Counter } from 'prom-client';
import { configSchema, type Config } from '../../../core/config/schema.ts';
import { PluginError } from '../../../core/errors.ts';
import type { CommitOffset, GroupPort, PartitionOffsets, SubscribeOptions } from '../../../core/kafka/group-port.ts';
import type { RecordHeaders } from '../../../core/kafka/records.ts';
import { SessionRegistry } from '../../../core/queue/registry.ts';
import { consume, type ConsumeDeps, type QueueMessage } from '../../../handlers/consume.ts';
import type { OffsetsDeps } from '../../../handlers/get-offsets.ts';
import { messageIdHeader } from '../../../handlers/queue/message-input.ts';
import { testContext } from '../../support/context.ts';
import { FakeSubscription } from '../../support/fake-group.ts';
import { FakeProducer } from '../../support/fake-producer.ts';
import { FakeLog } from '../../support/fake-reader.ts';
import { testMetrics } from '../../support/streams.ts';

/**
 * Deps of the queue handlers (consume, subscribe, ack, nack, seek, get_offsets, consume_batch) on in-memory fakes:
 * one FakeLog holds the topic `orders` and its dead-letter topic `orders.dlq`; every member the handlers join is a
 * FakeSubscription reading that log.
 */

export type SeekTarget = Parameters<GroupPort['seek']>[2];

/**
 * Consumer groups over a FakeLog, as Kafka keeps them: a group's committed offsets (with metadata) are what its
 * members' commits and seeks left; a new member is assigned every partition of the topic (or `assignment`), starting
 * at the committed offset or the reset position; seek is refused while the group has an open member. Every call is
 * recorded, and `fail` makes the next call of a kind fail with the given error.
 */
export class QueueGroups implements GroupPort {
  /** `group/topic` → partition → the committed offset and its metadata. */
  readonly committed = new Map<string, Map<number, CommitOffset>>();
  readonly joined: SubscribeOptions[] = [];
  readonly members: { options: SubscribeOptions; sub: FakeSubscription }[] = [];
  readonly offsetsCalls: [group: string, topic: string][] = [];
  readonly seekCalls: { group: string; topic: string; to: SeekTarget }[] = [];
  /** Partition → first offset still in the log (default 0), as after retention. */
  readonly logStart = new Map<number, string>();
  /** `partition:offset` of records members do not read, as after compaction (the offsets stay in the log). */
  readonly compacted = new Set<string>();
  fail: { subscribe?: Error; offsets?: Error; seek?: Error } = {};
  /** Partitions a new member gets; default all of the topic's. */
  assignment: ((options: SubscribeOptions) => number[]) | undefined;

  constructor(readonly log: FakeLog) {}

  /** The group's open members. */
  active(group: string): FakeSubscription[] {
    return this.members.filter((m) => m.options.group === group && m.sub.closed === undefined).map((m) => m.sub);
  }

  /** The last member that joined (the one a test's handler call just created). */
  get last(): FakeSubscription {
    const m = this.members.at(-1);
    if (m === undefined) throw new Error('no member joined');
    return m.sub;
  }

  /** `partition=offset` of the group's committed offsets, in partition order. */
  committedOf(group: string, topic = 'orders'): string[] {
    return [...(this.committed.get(`${group}/${topic}`) ?? [])].sort(([a], [b]) => a - b).map(([p, c]) => `${p}=${c.offset}`);
  }

  subscribe(options: SubscribeOptions): Promise<FakeSubscription> {
    const failure = this.#take('subscribe');
    if (failure !== undefined) return Promise.reject(failure);
    this.joined.push(options);
    const partitions = this.log.get(options.topic).partitions;
    const records = (p: number) => (partitions[p] ?? []).filter((r) => !this.compacted.has(`${p}:${r.offset}`));
    const sub = new FakeSubscription({ records, waitForAppend: (ms, signal) => this.log.waitForAppend(ms, signal) });
    const commit = sub.commit.bind(sub);
    sub.commit = async (offsets) => {
      await commit(offsets);
      for (const [p, c] of offsets) this.#set(options.group, options.topic, p, c);
    };
    this.members.push({ options, sub });
    for (const p of this.assignment?.(options) ?? partitions.map((_, i) => i)) {
      const c = this.committed.get(`${options.group}/${options.topic}`)?.get(p);
      const reset = options.autoOffsetReset === 'latest' ? String(partitions[p]!.length) : this.logStart.get(p) ?? '0';
      sub.assign([p], c?.offset ?? reset, c?.metadata ?? '');
    }
    return Promise.resolve(sub);
  }

  offsets(group: string, topic: string): Promise<PartitionOffsets[]> {
    this.offsetsCalls.push([group, topic]);
    const failure = this.#take('offsets');
    if (failure !== undefined) return Promise.reject(failure);
    const mine = this.committed.get(`${group}/${topic}`);
    return Promise.resolve(this.log.get(topic).partitions.map((records, partition) => ({
      partition, committed: mine?.get(partition)?.offset, end: String(records.length), start: this.logStart.get(partition) ?? '0',
    })));
  }

  seek(group: string, topic: string, to: SeekTarget): Promise<Map<number, string>> {
    this.seekCalls.push({ group, topic, to });
    const failure = this.#take('seek');
    if (failure !== undefined) return Promise.reject(failure);
    if (this.active(group).length > 0) return Promise.reject(new PluginError('FAILED_PRECONDITION', `group ${group} has active members; stop its consumers before seeking`));
    const logs = this.log.get(topic).partitions;
    const target = 'offsets' in to ? to.offsets : new Map(logs.map((records, p) => {
      const at = 'earliest' in to ? Number(this.logStart.get(p) ?? 0) : 'latest' in to ? records.length : records.findIndex((r) => r.timestamp >= to.timestamp);
      return [p, String(at < 0 ? records.length : at)];
    }));
    for (const [p, offset] of target) this.#set(group, topic, p, { offset, metadata: '' });
    return Promise.resolve(new Map(target));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #set(group: string, topic: string, partition: number, c: CommitOffset): void {
    const key = `${group}/${topic}`;
    const mine = this.committed.get(key) ?? new Map<number, CommitOffset>();
    mine.set(partition, { offset: c.offset, metadata: c.metadata });
    this.committed.set(key, mine);
  }

  #take(kind: 'subscribe' | 'offsets' | 'seek'): Error | undefined {
    const failure = this.fail[kind];
    delete this.fail[kind];
    return failure;
  }
}

export interface QueueDepsOptions {
  consumer?: Partial<Config['consumer']>;
  kafka?: Partial<Config['kafka']>;
  /** Partitions of `orders` (default 3). */
  partitions?: number;
}

/** Handler deps on fakes; backoff 1–4 ms so requeued messages come back at once. */
export function queueDeps(options: QueueDepsOptions = {}) {
  const log = new FakeLog();
  log.createTopic('orders', options.partitions ?? 3);
  log.createTopic('orders.dlq', 1);
  const config = configSchema.parse({ kafka: options.kafka ?? {}, consumer: { initialBackoffMs: 1, maxBackoffMs: 4, ...options.consumer } });
  const groups = new QueueGroups(log);
  const deadLetters = new FakeProducer(log, () => 1_800_000_000_000);
  const sessions = new SessionRegistry();
  const metrics = testMetrics();
  const deps: ConsumeDeps & OffsetsDeps = { config, groups, deadLetters, sessions, metrics, memberPrefix: 'host-1' };
  /** Appends a record to `orders` with a message id header (unless `id` is ''), the given headers and key. */
  const append = (partition: number, value: string, extra: { id?: string; headers?: Record<string, string>; key?: string; timestamp?: number } = {}) => {
    const headers: RecordHeaders = [];
    const id = extra.id ?? `id-${value}`;
    if (id !== '') headers.push([messageIdHeader, Buffer.from(id)]);
    for (const [k, v] of Object.entries(extra.headers ?? {})) headers.push([k, Buffer.from(v)]);
    return log.append('orders', partition, { value: Buffer.from(value), key: extra.key === undefined ? undefined : Buffer.from(extra.key), headers, timestamp: extra.timestamp ?? 1_700_000_000_000 });
  };
  /** The records of the dead-letter topic, with their headers as text. */
  const deadLettered = () => log.get('orders.dlq').partitions[0]!.map((r) => ({
    value: r.value.toString(), key: r.key?.toString(), headers: Object.fromEntries(r.headers.map(([k, v]) => [k, v.toString()])),
  }));
  return { deps, log, groups, deadLetters, sessions, metrics, config, append, deadLettered };
}

/** A call context with its own abort controller. */
export function abortableContext() {
  const abort = new AbortController();
  return { abort, ctx: testContext({ signal: abort.signal }) };
}

/** The value of a counter for a topic (0 when never counted). */
export async function countOf(counter: Counter, topic = 'orders'): Promise<number> {
  return (await counter.get()).values.find((v) => v.labels.topic === topic)?.value ?? 0;
}

/** The next item of a stream; fails when the stream ends or nothing comes within `ms`. */
export async function next<T>(stream: AsyncIterator<T>, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`nothing delivered within ${ms} ms`)), ms)));
  try {
    const r = await Promise.race([stream.next(), timeout]);
    if (r.done === true) throw new Error('the stream ended');
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Takes `n` items in order. */
export async function nextN<T>(stream: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await next(stream));
  return out;
}

/** Whether the promise is still unsettled after `ms` (the time a delivery would need if it were going to come). */
export async function stillPending(promise: Promise<unknown>, ms = 40): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !settled;
}

/** The error a promise rejects with (fails the test when it resolves). */
export const rejection = (p: Promise<unknown>): Promise<unknown> => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

/** Opens a consume stream on `orders` (subscriber `worker-1` unless the request names another) with its own signal. */
export async function openConsume(deps: ConsumeDeps, request: Record<string, unknown> = {}) {
  const { abort, ctx } = abortableContext();
  const stream = (await consume(deps, { topic: 'orders', subscriber_id: 'worker-1', ...request }, ctx)) as AsyncGenerator<QueueMessage>;
  /** Ends the stream as a cancelled caller does: abort the signal, then return. */
  const end = async () => {
    abort.abort();
    await stream.return(undefined);
  };
  return { stream, abort, ctx, end };
}
