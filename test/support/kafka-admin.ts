import { createRequire } from 'node:module';
import kafkajs, { type Admin } from 'kafkajs';

/**
 * An admin client for tests that is not ours: kafkajs, so that set-up and checks (topics, metadata, offsets, groups)
 * do not go through the client library the plugin is built on. Connects on first use; close() when done.
 *
 * kafkajs 2.2.4's RequestQueue, once connected, re-arms a timer with a negative delay after every answer even when
 * nothing is pending (Node 24 warns `TimeoutNegativeWarning` and runs it every millisecond for as long as the client
 * is connected; kafkajs issues #1751, #1704). With nothing pending and no throttle there is nothing to check: don't
 * schedule (the same guard as bench/kafkajs.ts).
 */
interface RequestQueue { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: unknown; scheduleCheckPendingRequests: (this: RequestQueue) => void }
const queue = (createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }).prototype;
if (!('guarded' in queue.scheduleCheckPendingRequests)) {
  const schedule = queue.scheduleCheckPendingRequests;
  queue.scheduleCheckPendingRequests = Object.assign(function (this: RequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now() && !this.throttleCheckTimeoutId) return;
    schedule.call(this);
  }, { guarded: true });
}

export interface AdminOptions {
  clientId?: string;
  /** Per connection attempt (default 5 s). */
  connectTimeoutMs?: number;
  /** Per request (default 30 s). */
  requestTimeoutMs?: number;
  /** Retries of a failed operation (default 5), the first after retryDelayMs (default 300 ms), then backing off. */
  retries?: number;
  retryDelayMs?: number;
}

export interface PartitionMetadata {
  partition: number;
  /** Broker id of the leader, -1 while there is none. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicMetadata {
  name: string;
  /** In partition order. */
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string;
  controllerId: number | undefined;
  /** The live (registered, unfenced) brokers by id. */
  brokers: Map<number, { host: string; port: number }>;
}

export interface TopicOptions {
  partitions?: number;
  replicas?: number;
  /** Replica list per partition (index = partition, first = preferred leader); replaces partitions and replicas. */
  assignments?: number[][];
  configs?: Record<string, string>;
}

export interface KafkaAdmin {
  /** Creates a topic and waits until its partitions have leaders; fails when it already exists. */
  createTopic(topic: string, options?: TopicOptions): Promise<void>;
  /** Deletes those of `topics` that exist. */
  deleteTopics(topics: string[]): Promise<void>;
  /** Every topic name, internal ones (`__consumer_offsets` …) included. */
  topics(): Promise<string[]>;
  /** Every group id the brokers know, of any type (classic and consumer-protocol groups). */
  groups(): Promise<string[]>;
  /**
   * The end offset of each partition of `topic`, in partition order (the last stable offset, which is the high
   * watermark unless a transaction is open: nobody writes transactionally to these topics).
   */
  endOffsets(topic: string): Promise<bigint[]>;
  /** Fresh cluster metadata: id, controller, live brokers. */
  cluster(): Promise<ClusterMetadata>;
  /** Fresh metadata of one topic (leader, replicas and ISR of each partition); undefined when it does not exist. */
  topic(topic: string): Promise<TopicMetadata | undefined>;
  close(): Promise<void>;
}

export function kafkaAdmin(brokers: string | string[], options: AdminOptions = {}): KafkaAdmin {
  const { retries = 5, retryDelayMs = 300 } = options;
  const kafka = new kafkajs.Kafka({
    clientId: options.clientId ?? 'prism-test-admin',
    brokers: typeof brokers === 'string' ? brokers.split(',') : brokers,
    connectionTimeout: options.connectTimeoutMs ?? 5_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries, initialRetryTime: retryDelayMs },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  let connected: Promise<Admin> | undefined;
  const admin = () => {
    if (connected === undefined) {
      const attempt = (async () => {
        const a = kafka.admin();
        await a.connect();
        return a;
      })();
      // A failed connect is not kept: the next call tries again.
      attempt.catch(() => {
        if (connected === attempt) connected = undefined;
      });
      connected = attempt;
    }
    return connected;
  };

  /**
   * A metadata read, tried again when a broker does not answer: kafkajs asks one broker of its cached list chosen at
   * random and gives up when that one refuses the connection (a node just killed is listed until it is fenced).
   */
  const read = async <T>(what: (a: Admin) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await what(await admin());
      } catch (err) {
        const name = (err as Error).name;
        if (attempt >= retries || !/^KafkaJS(ConnectionError|BrokerNotFound)$/.test(name)) throw err;
        await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
  };

  return {
    async createTopic(topic, { partitions, replicas, assignments, configs = {} } = {}) {
      const created = await (await admin()).createTopics({
        waitForLeaders: true,
        topics: [{
          topic,
          ...(assignments === undefined
            ? { numPartitions: partitions ?? -1, replicationFactor: replicas ?? -1 }
            : { replicaAssignment: assignments.map((r, partition) => ({ partition, replicas: r })) }),
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        }],
      });
      if (!created) throw new Error(`topic ${topic} already exists`);
    },
    async deleteTopics(topics) {
      const a = await admin();
      const existing = new Set(await a.listTopics());
      const doomed = topics.filter((t) => existing.has(t));
      if (doomed.length > 0) await a.deleteTopics({ topics: doomed });
    },
    async topics() {
      return (await admin()).listTopics();
    },
    async groups() {
      return (await (await admin()).listGroups()).groups.map((g) => g.groupId);
    },
    async endOffsets(topic) {
      const offsets = await (await admin()).fetchTopicOffsets(topic);
      return offsets.sort((a, b) => a.partition - b.partition).map((p) => BigInt(p.offset));
    },
    async cluster() {
      const md = await read((a) => a.describeCluster());
      return { clusterId: md.clusterId, controllerId: md.controller ?? undefined, brokers: new Map(md.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }])) };
    },
    async topic(topic) {
      const md = await read((a) => a.fetchTopicMetadata({ topics: [topic] })).catch((err: unknown) => {
        if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
        throw err;
      });
      const t = md?.topics.find((x) => x.name === topic);
      if (t === undefined) return undefined;
      const partitions = [...t.partitions].sort((a, b) => a.partitionId - b.partitionId);
      return { name: topic, partitions: partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })) };
    },
    async close() {
      const a = connected;
      connected = undefined;
      await a?.then((x) => x.disconnect(), () => undefined);
    },
  };
}
