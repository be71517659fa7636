import type { ConsumedRecord } from './records.ts';

/**
 * The reader port: group-less reads of a topic (tail and query) and the topic administration CreateStream needs.
 * Nothing here joins, creates or commits to a consumer group. Offsets are decimal strings, timestamps epoch ms.
 * The real adapter (platformatic-reader.ts) and the in-memory fake run one contract suite.
 */

/** Where to position in each partition: the log start, the end (high-water mark), or by record time. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface FetchOptions {
  /** How long the broker may hold the request when no partition has data. */
  maxWaitMs: number;
  /** Upper bound of bytes per partition in one answer (the broker still returns at least one record batch). */
  maxBytesPerPartition: number;
  /** Rejects the pending call with CANCELLED when it fires. */
  signal?: AbortSignal;
}

export interface PartitionRecords {
  partition: number;
  /** Records at or after the requested offset, in offset order; transaction markers and aborted transactions left out. */
  records: ConsumedRecord[];
  /** Where to fetch next: past every batch returned (markers and compaction gaps included), ≥ the request. */
  nextOffset: string;
  /** Size of the answer on the wire (compressed batches): what `maxBytesPerPartition` bought, for sizing the next. */
  bytes: number;
}

/**
 * One reader's fetch session over one topic, with its own broker connections. Not safe for concurrent calls:
 * one caller (a tail, a query page) owns it and calls `fetch` in a loop.
 */
export interface Fetcher {
  /**
   * Reads from each partition of `positions` (partition → next offset) with batched requests, one per partition
   * leader. Resolves as soon as some partition has records, or with an empty list after `maxWaitMs`. Partitions
   * whose leader has not answered yet are absent; their request stays in flight and serves the next call when it
   * asks for the same positions. Rejects with FAILED_PRECONDITION when an offset is no longer (or not yet) in the
   * log, with CANCELLED on abort.
   */
  fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]>;
  /** Releases the connections; idempotent. */
  close(): Promise<void>;
}

export interface TopicDescription {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** The requested topic configs as the broker reports them (defaults included). */
  configs: Record<string, string>;
}

export interface TopicSpec {
  topic: string;
  /** Absent: the broker's num.partitions. */
  partitions?: number;
  /** Absent: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs: Record<string, string>;
}

export interface ReaderPort {
  /** Number of partitions of an existing topic; NOT_FOUND when it does not exist (never creates it). */
  partitionCount(topic: string, options?: { fresh?: boolean }): Promise<number>;
  /**
   * One offset per partition (all partitions, or those listed). `{ timestamp }` gives the first offset whose record
   * time is at or after it, or the high-water mark when no record is that recent. `latest` is the high-water mark
   * (last stable offset), i.e. the offset the next record will get.
   */
  offsets(topic: string, at: OffsetSpec, partitions?: number[]): Promise<Map<number, string>>;
  /** Opens a fetch session on `topic`; see Fetcher. */
  openFetcher(topic: string): Fetcher;
  /** Creates a topic and describes it as created (every topic config); ALREADY_EXISTS when it exists. */
  createTopic(spec: TopicSpec): Promise<TopicDescription>;
  /** Partitions, replication factor and the named configs of a topic; undefined when it does not exist. */
  describeTopic(topic: string, configKeys: string[]): Promise<TopicDescription | undefined>;
  /** Closes every client and open fetcher; idempotent. Later calls reject with UNAVAILABLE. */
  close(): Promise<void>;
}
