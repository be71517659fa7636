import { PluginError } from '../../core/errors.ts';
import type { FetchOptions, Fetcher, OffsetSpec, PartitionRecords, ReaderPort, TopicDescription, TopicSpec } from '../../core/kafka/reader-port.ts';
import { recordSize, type ConsumedRecord, type RecordHeaders } from '../../core/kafka/records.ts';

interface FakeTopic {
  partitions: ConsumedRecord[][];
  replicationFactor: number;
  configs: Record<string, string>;
}

/** The in-memory "cluster" a FakeReader reads and a FakeProducer writes: per-topic partition logs. */
export class FakeLog {
  readonly topics = new Map<string, FakeTopic>();
  readonly #waiters = new Set<() => void>();

  createTopic(topic: string, partitions = 3, replicationFactor = 1, configs: Record<string, string> = {}): void {
    if (this.topics.has(topic)) throw new PluginError('ALREADY_EXISTS', `create topic ${topic} failed: TOPIC_ALREADY_EXISTS`);
    this.topics.set(topic, { partitions: Array.from({ length: partitions }, () => []), replicationFactor, configs: { 'retention.ms': '604800000', ...configs } });
  }

  addPartitions(topic: string, count: number): void {
    for (let i = 0; i < count; i++) this.get(topic).partitions.push([]);
  }

  get(topic: string): FakeTopic {
    const t = this.topics.get(topic);
    if (t === undefined) throw new PluginError('NOT_FOUND', `topic ${topic} does not exist`);
    return t;
  }

  /** Appends a record and wakes waiting fetches. */
  append(topic: string, partition: number, r: { value: Buffer; key?: Buffer | undefined; headers?: RecordHeaders; timestamp: number }): ConsumedRecord {
    const log = this.get(topic).partitions[partition];
    if (log === undefined) throw new PluginError('INVALID_ARGUMENT', `topic ${topic} has no partition ${partition}`);
    const record: ConsumedRecord = { topic, partition, offset: String(log.length), timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers ?? [] };
    log.push(record);
    for (const wake of [...this.#waiters]) wake();
    return record;
  }

  /** Resolves on the next append, after `ms`, or on abort. */
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

class FakeFetcher implements Fetcher {
  #closed = false;
  constructor(private readonly log: FakeLog, private readonly topic: string, private readonly reader: FakeReader) {}

  async fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]> {
    if (this.#closed) throw new PluginError('UNAVAILABLE', 'the fetcher is closed');
    this.reader.fetches++;
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      if (options.signal?.aborted === true) throw new PluginError('CANCELLED', 'the read was cancelled');
      const out = this.#read(positions, options.maxBytesPerPartition);
      if (out.some((p) => p.records.length > 0) || Date.now() >= deadline) return out.filter((p) => p.records.length > 0);
      await this.log.waitForAppend(deadline - Date.now(), options.signal);
    }
  }

  #read(positions: ReadonlyMap<number, string>, maxBytes: number): PartitionRecords[] {
    const topic = this.log.get(this.topic);
    return [...positions].map(([partition, at]) => {
      const log = topic.partitions[partition];
      if (log === undefined) throw new PluginError('NOT_FOUND', `topic ${this.topic} has no partition ${partition}`);
      const from = Number(at);
      if (from > log.length) throw new PluginError('FAILED_PRECONDITION', `fetch from topic ${this.topic} failed: OFFSET_OUT_OF_RANGE`);
      const records: ConsumedRecord[] = [];
      let bytes = 0;
      // Like the broker: at least one record, then whole records up to the byte limit.
      for (let i = from; i < log.length && (records.length === 0 || bytes + recordSize(log[i]!) <= maxBytes); i++) {
        records.push(log[i]!);
        bytes += recordSize(log[i]!);
      }
      return { partition, records, nextOffset: String(from + records.length), bytes };
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.reader.openFetchers--;
    return Promise.resolve();
  }
}

/** In-memory reader port for handler unit tests; counts fetch round trips and open fetchers. */
export class FakeReader implements ReaderPort {
  fetches = 0;
  openFetchers = 0;
  #closed = false;
  constructor(readonly log: FakeLog = new FakeLog()) {}

  /** Runs `fn` as the real port would answer: a rejected promise, never a synchronous throw. */
  #answer<T>(fn: () => T): Promise<T> {
    try {
      if (this.#closed) throw new PluginError('UNAVAILABLE', 'the Kafka reader is closing');
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  partitionCount(topic: string, _options?: { fresh?: boolean }): Promise<number> {
    return this.#answer(() => this.log.get(topic).partitions.length);
  }

  offsets(topic: string, at: OffsetSpec, partitions?: number[]): Promise<Map<number, string>> {
    return this.#answer(() => this.#offsets(topic, at, partitions));
  }

  #offsets(topic: string, at: OffsetSpec, partitions?: number[]): Map<number, string> {
    const t = this.log.get(topic);
    const out = new Map<number, string>();
    for (const p of partitions ?? t.partitions.map((_, i) => i)) {
      const log = t.partitions[p]!;
      const found = at === 'earliest' ? 0 : at === 'latest' ? log.length : log.findIndex((r) => r.timestamp >= at.timestamp);
      out.set(p, String(found < 0 ? log.length : found));
    }
    return out;
  }

  openFetcher(topic: string): Fetcher {
    if (this.#closed) throw new PluginError('UNAVAILABLE', 'the Kafka reader is closing');
    this.openFetchers++;
    return new FakeFetcher(this.log, topic, this);
  }

  createTopic(spec: TopicSpec): Promise<TopicDescription> {
    return this.#answer(() => {
      this.log.createTopic(spec.topic, spec.partitions ?? 3, spec.replicationFactor ?? 1, spec.configs);
      const t = this.log.get(spec.topic);
      return { topic: spec.topic, partitions: t.partitions.length, replicationFactor: t.replicationFactor, configs: { ...t.configs } };
    });
  }

  describeTopic(topic: string, configKeys: string[]): Promise<TopicDescription | undefined> {
    return this.#answer(() => {
      const t = this.log.topics.get(topic);
      if (t === undefined) return undefined;
      const configs = Object.fromEntries(configKeys.filter((k) => k in t.configs).map((k) => [k, t.configs[k]!]));
      return { topic, partitions: t.partitions.length, replicationFactor: t.replicationFactor, configs };
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
