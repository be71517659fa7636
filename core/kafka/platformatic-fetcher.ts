import type { ConnectionPool, Consumer } from '@platformatic/kafka';
import { PluginError } from '../errors.ts';
import { classifyKafkaError } from './classify.ts';
import type { FetchOptions, Fetcher, PartitionRecords } from './reader-port.ts';
import { toPartitionRecords } from './fetch-records.ts';

/** One fetch request to one partition leader; settles once, never rejects (the error is kept). */
interface Request {
  key: string;
  settled: boolean;
  result?: PartitionRecords[];
  error?: PluginError;
  done: Promise<void>;
}

const keyOf = (parts: Map<number, bigint>) => [...parts].map(([p, o]) => `${p}@${o}`).join(',');

/**
 * Fetches one topic's partitions from their leaders with group-less Fetch requests, on its own connection pool
 * (a broker fetch session serves one request at a time, so sessions must not be shared between callers).
 * Requests to different leaders run concurrently; a leader's answer that arrives after the caller returned is kept
 * for the next call with the same positions, so a quiet leader never delays records from a busy one.
 */
export class PlatformaticFetcher implements Fetcher {
  readonly #consumer: Consumer;
  readonly #pool: ConnectionPool;
  readonly #topic: string;
  readonly #release: (pool: ConnectionPool, reusable: boolean) => void;
  readonly #requests = new Map<number, Request>();
  #closed = false;

  constructor(consumer: Consumer, pool: ConnectionPool, topic: string, release: (pool: ConnectionPool, reusable: boolean) => void) {
    this.#consumer = consumer;
    this.#pool = pool;
    this.#topic = topic;
    this.#release = release;
  }

  async fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]> {
    if (this.#closed) throw new PluginError('UNAVAILABLE', 'the fetcher is closed');
    const cancelled = () => new PluginError('CANCELLED', 'the read was cancelled');
    if (options.signal?.aborted === true) throw cancelled();
    const metadata = await this.#consumer.metadata({ topics: [this.#topic] }).catch((err: unknown) => {
      throw classifyKafkaError(err, `metadata of topic ${this.#topic}`);
    });
    const topic = metadata.topics.get(this.#topic)!;
    const byLeader = new Map<number, Map<number, bigint>>();
    for (const [partition, offset] of positions) {
      const leader = topic.partitions[partition]?.leader;
      if (leader === undefined) throw new PluginError('NOT_FOUND', `topic ${this.#topic} has no partition ${partition}`);
      if (!byLeader.has(leader)) byLeader.set(leader, new Map());
      byLeader.get(leader)!.set(partition, BigInt(offset));
    }
    const wanted: [number, Request][] = [];
    for (const [node, parts] of byLeader) {
      const key = keyOf(parts);
      let request = this.#requests.get(node);
      if (request?.key !== key) {
        request = this.#send(node, topic.id, parts, key, options, request?.done);
        this.#requests.set(node, request);
      }
      wanted.push([node, request]);
    }
    await this.#firstData(wanted.map(([, r]) => r), options.signal);
    if (options.signal?.aborted) throw cancelled();
    const out: PartitionRecords[] = [];
    for (const [node, request] of wanted) {
      if (!request.settled) continue;
      this.#requests.delete(node);
      if (request.error !== undefined) throw request.error;
      out.push(...request.result!);
    }
    return out;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // A pool with a request still in flight would hand its late answer to the next owner: close it instead.
    const idle = [...this.#requests.values()].every((r) => r.settled);
    this.#requests.clear();
    this.#release(this.#pool, idle);
    return Promise.resolve();
  }

  /** Resolves when some request brought records or failed, when all have settled, or on abort. */
  #firstData(requests: Request[], signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let pending = requests.length;
      const finish = () => {
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      signal?.addEventListener('abort', finish, { once: true });
      if (pending === 0) finish();
      for (const r of requests) {
        void r.done.then(() => {
          pending--;
          if (r.error !== undefined || pending === 0 || r.result!.some((p) => p.records.length > 0)) finish();
        });
      }
    });
  }

  /** One Fetch to `node`, sent after the previous request to that node has settled (one session, one request). */
  #send(node: number, topicId: string, parts: Map<number, bigint>, key: string, options: FetchOptions, after?: Promise<void>): Request {
    const request: Request = { key, settled: false, done: Promise.resolve() };
    const topics = [{
      topicId,
      partitions: [...parts].map(([partition, fetchOffset]) => ({
        partition,
        fetchOffset,
        partitionMaxBytes: options.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      })),
    }];
    request.done = (after ?? Promise.resolve())
      .then(() => this.#consumer.fetch({
        node,
        topics,
        minBytes: 1,
        maxBytes: options.maxBytesPerPartition * parts.size,
        maxWaitTime: options.maxWaitMs,
        connectionPool: this.#pool,
      }))
      .then(
        (response) => {
          request.result = toPartitionRecords(this.#topic, response, parts);
        },
        (err: unknown) => {
          request.error = classifyKafkaError(err, `fetch from topic ${this.#topic}`);
        },
      )
      .finally(() => {
        request.settled = true;
      });
    return request;
  }
}
