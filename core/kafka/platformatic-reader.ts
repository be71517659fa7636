import { Admin, ConnectionPool, Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError } from './classify.ts';
import { baseClientOptions, type SaslAuth } from './client-options.ts';
import { PlatformaticFetcher } from './platformatic-fetcher.ts';
import type { OffsetSpec, ReaderPort, TopicDescription, TopicSpec } from './reader-port.ts';

/** ListOffsets special timestamps (Kafka protocol). */
const LATEST = -1n;
const EARLIEST = -2n;
/** DescribeConfigs resource type of a topic (Kafka protocol). */
const TOPIC_RESOURCE = 2;
/** Connection pools kept for the next fetcher: a query page or a tail then needs no new TCP connection. */
const idlePoolsKept = 8;

/**
 * The group id platformatic's Consumer requires. The reader never calls consume(), joinGroup() or commit(), so the
 * broker never hears of it; tests assert it never appears in the group list.
 */
export const readerGroupIdPrefix = 'prism-reader-never-joined';

/** platformatic reports a missing topic as a UserError "Unknown topic …" without the protocol error. */
const unknownTopic = (err: unknown) => err instanceof Error && /^Unknown topic /.test(err.message);

function readError(err: unknown, topic: string, doing: string): PluginError {
  if (unknownTopic(err)) return new PluginError('NOT_FOUND', `topic ${topic} does not exist`, { cause: err });
  return classifyKafkaError(err, `${doing} (topic ${topic})`);
}

/**
 * The real reader on @platformatic/kafka: a Consumer used only for its group-less APIs (metadata, ListOffsets,
 * Fetch against each partition's leader) and an Admin for topic creation. Clients are created on first use.
 */
export function createPlatformaticReader(config: Config, auth?: SaslAuth): ReaderPort {
  const options = baseClientOptions(config, 'reader', auth);
  const connectionOptions = { connectTimeout: options.connectTimeout, requestTimeout: options.requestTimeout, sasl: options.sasl, tls: options.tls };
  let consumer: Consumer | undefined;
  let admin: Admin | undefined;
  let closing: Promise<void> | undefined;
  const idle: ConnectionPool[] = [];
  const open = new Set<PlatformaticFetcher>();
  const live = () => {
    if (closing !== undefined) throw new PluginError('UNAVAILABLE', 'the Kafka reader is closing');
  };
  const getConsumer = () => {
    live();
    consumer ??= new Consumer({
      ...options,
      groupId: `${readerGroupIdPrefix}-${options.clientId}`,
      autocommit: false,
      // Said, not left to the library default: ListOffsets then answers the last stable offset, and Fetch stops there
      // and lists the aborted transactions that toPartitionRecords (fetch-records.ts) leaves out.
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      // A stale fetch session or a moved leader is retried quickly: a tail is waiting.
      retryDelay: 100,
    });
    return consumer;
  };
  const getAdmin = () => {
    live();
    // A missing topic is retried like any metadata error; short delays keep CreateStream's first look quick.
    admin ??= new Admin({ ...options, retryDelay: 100 });
    return admin;
  };

  const listed = async (topic: string, timestamp: bigint, partitions?: number[]) => {
    const filter = partitions === undefined ? {} : { partitions: { [topic]: partitions } };
    const offsets = (await getConsumer().listOffsets({ topics: [topic], timestamp, ...filter })).get(topic) ?? [];
    const out = new Map<number, string>();
    offsets.forEach((offset, partition) => out.set(partition, String(offset)));
    return out;
  };

  return {
    async partitionCount(topic, { fresh = false } = {}) {
      try {
        const metadata = await getConsumer().metadata({ topics: [topic], forceUpdate: fresh });
        return metadata.topics.get(topic)!.partitionsCount;
      } catch (err) {
        throw readError(err, topic, 'metadata request');
      }
    },

    async offsets(topic, at: OffsetSpec, partitions) {
      try {
        if (at === 'earliest' || at === 'latest') return await listed(topic, at === 'earliest' ? EARLIEST : LATEST, partitions);
        const filter = partitions === undefined ? {} : { partitions: { [topic]: partitions } };
        const found = (await getConsumer().listOffsetsWithTimestamps({ topics: [topic], timestamp: BigInt(at.timestamp), ...filter })).get(topic);
        const out = new Map<number, string>();
        const missing: number[] = [];
        for (const [partition, { offset }] of found ?? []) {
          if (offset < 0n) missing.push(partition);
          else out.set(partition, String(offset));
        }
        // No record that recent: the partition is positioned at its end.
        if (missing.length > 0) for (const [p, o] of await listed(topic, LATEST, missing)) out.set(p, o);
        return out;
      } catch (err) {
        throw readError(err, topic, 'list offsets');
      }
    },

    openFetcher(topic) {
      const c = getConsumer();
      const pool = idle.pop() ?? new ConnectionPool(`${options.clientId}-fetch`, connectionOptions);
      const fetcher: PlatformaticFetcher = new PlatformaticFetcher(c, pool, topic, (p, reusable) => {
        open.delete(fetcher);
        if (reusable && closing === undefined && idle.length < idlePoolsKept) idle.push(p);
        else void p.close().catch(() => undefined);
      });
      open.add(fetcher);
      return fetcher;
    },

    async createTopic(spec: TopicSpec): Promise<TopicDescription> {
      try {
        const [created] = await getAdmin().createTopics({
          topics: [{ topic: spec.topic, partitions: spec.partitions ?? -1, replicas: spec.replicationFactor ?? -1 }],
          configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        });
        const configs: Record<string, string> = {};
        for (const [name, value] of Object.entries(created?.configuration ?? {})) if (typeof value === 'string') configs[name] = value;
        return { topic: spec.topic, partitions: created?.partitions ?? spec.partitions ?? 0, replicationFactor: created?.replicas ?? spec.replicationFactor ?? 0, configs };
      } catch (err) {
        throw classifyKafkaError(err, `create topic ${spec.topic}`);
      }
    },

    async describeTopic(topic, configKeys): Promise<TopicDescription | undefined> {
      const client = getAdmin();
      try {
        const metadata = await client.metadata({ topics: [topic], forceUpdate: true });
        const t = metadata.topics.get(topic)!;
        const described = configKeys.length === 0 ? [] : await client.describeConfigs({
          resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: configKeys }],
        });
        const configs: Record<string, string> = {};
        for (const c of described[0]?.configs ?? []) if (typeof c.value === 'string') configs[c.name] = c.value;
        return { topic, partitions: t.partitionsCount, replicationFactor: t.partitions[0]?.replicas.length ?? 0, configs };
      } catch (err) {
        if (unknownTopic(err)) return undefined;
        throw classifyKafkaError(err, `describe topic ${topic}`);
      }
    },

    close() {
      closing ??= (async () => {
        await Promise.all([...open].map((f) => f.close()));
        await Promise.all(idle.splice(0).map((p) => p.close().catch(() => undefined)));
        const quietly = (client: { close(): Promise<void> } | undefined) => client?.close().catch(() => undefined);
        await Promise.all([quietly(consumer), quietly(admin)]);
      })();
      return closing;
    },
  };
}
