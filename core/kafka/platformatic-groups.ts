import { Admin, ConnectionPool, Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError, hasKafkaError } from './classify.ts';
import { baseClientOptions, type SaslAuth } from './client-options.ts';
import { parseBrokers } from './group-coordinator.ts';
import type { GroupPort, GroupSubscription, PartitionOffsets, SubscribeOptions } from './group-port.ts';
import { openSubscription } from './group-subscription.ts';
import { readerGroupIdPrefix } from './platformatic-reader.ts';

/** ListOffsets' special timestamps (Kafka protocol). */
const LATEST = -1n;
const EARLIEST = -2n;

/**
 * Consumer groups on @platformatic/kafka: each subscription is one member of our own (KIP-848, group-member.ts);
 * offsets and seeks through the Admin API. `report` hears of membership trouble the members retry by themselves.
 */
export function createPlatformaticGroups(config: Config, auth?: SaslAuth, report?: (error: PluginError, doing: string) => void): GroupPort {
  const options = baseClientOptions(config, 'group', auth);
  const connectionOptions = { connectTimeout: options.connectTimeout, requestTimeout: options.requestTimeout, sasl: options.sasl, tls: options.tls };
  let admin: Admin | undefined;
  let consumer: Consumer | undefined;
  const getAdmin = () => (admin ??= new Admin({ ...baseClientOptions(config, 'group-admin', auth) }));
  // Used only for its group-less calls (metadata, ListOffsets, Fetch): membership is ours (group-member.ts).
  const getClients = () => (consumer ??= new Consumer({ ...options, groupId: `${readerGroupIdPrefix}-${options.clientId}`, autocommit: false, retryDelay: 100, isolationLevel: FetchIsolationLevels.READ_COMMITTED }));
  const open = new Set<GroupSubscription>();

  /** `stable`: the end is the last stable offset (where a read_committed member starts), not the high-water mark. */
  async function listOffsets(topic: string, partitions: number[], timestamp: bigint, stable = false): Promise<Map<number, bigint>> {
    const res = await getAdmin().listOffsets({
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      ...(stable ? { isolationLevel: FetchIsolationLevels.READ_COMMITTED } : {}),
    });
    return new Map((res[0]?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  }

  async function partitionsOf(topic: string): Promise<number[]> {
    const md = await getAdmin().metadata({ topics: [topic] });
    const t = md.topics.get(topic);
    if (t === undefined) throw new PluginError('NOT_FOUND', `topic ${topic} does not exist`);
    return Array.from({ length: t.partitionsCount }, (_, i) => i);
  }

  return {
    async subscribe(o: SubscribeOptions): Promise<GroupSubscription> {
      try {
        // A member for a topic that does not exist gets nothing; create it first when the broker policy allows.
        const md = await getAdmin().metadata({ topics: [o.topic], autocreateTopics: config.kafka.autoCreateTopics });
        if (!md.topics.has(o.topic)) throw new PluginError('NOT_FOUND', `topic ${o.topic} does not exist`);
      } catch (err) {
        throw classifyKafkaError(err, `subscribing to ${o.topic}`);
      }
      const sub = await openSubscription(o, {
        clients: getClients(),
        bootstrap: parseBrokers(config.kafka.brokers),
        newPool: (role) => new ConnectionPool(`${options.clientId}-${role}`, connectionOptions),
        listOffsets: (topic, partitions, at) => listOffsets(topic, partitions, at === 'earliest' ? EARLIEST : LATEST, true),
        onClose: (s) => open.delete(s),
        report: (error, doing) => report?.(error, `group ${o.group} on ${o.topic}: ${doing}`),
      });
      open.add(sub);
      return sub;
    },

    async offsets(group, topic): Promise<PartitionOffsets[]> {
      try {
        const partitions = await partitionsOf(topic);
        const [ends, starts, committed] = await Promise.all([
          listOffsets(topic, partitions, LATEST),
          listOffsets(topic, partitions, EARLIEST),
          getAdmin().listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: partitions }] }] }),
        ]);
        const mine = new Map((committed[0]?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
        return partitions.map((partition) => {
          const c = mine.get(partition);
          return { partition, committed: c === undefined || c < 0n ? undefined : String(c), end: String(ends.get(partition) ?? 0n), start: String(starts.get(partition) ?? 0n) };
        });
      } catch (err) {
        throw classifyKafkaError(err, `reading offsets of group ${group} on ${topic}`);
      }
    },

    async seek(group, topic, to) {
      try {
        const partitions = await partitionsOf(topic);
        let target: Map<number, bigint>;
        if ('offsets' in to) target = new Map([...to.offsets].map(([p, o]) => [p, BigInt(o)]));
        else if ('timestamp' in to) {
          const found = await listOffsets(topic, partitions, BigInt(to.timestamp));
          const ends = await listOffsets(topic, partitions, LATEST);
          // No record at or after the timestamp: start at the end.
          target = new Map(partitions.map((p) => [p, (found.get(p) ?? -1n) < 0n ? (ends.get(p) ?? 0n) : found.get(p)!]));
        } else target = await listOffsets(topic, partitions, 'earliest' in to ? EARLIEST : LATEST);
        await getAdmin().alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [...target].map(([partition, offset]) => ({ partition, offset })) }] });
        return new Map([...target].map(([p, o]) => [p, String(o)]));
      } catch (err) {
        if (hasKafkaError(err, ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NON_EMPTY_GROUP'])) {
          throw new PluginError('FAILED_PRECONDITION', `group ${group} has active members; stop its consumers before seeking`, { cause: err });
        }
        throw classifyKafkaError(err, `seeking group ${group} on ${topic}`);
      }
    },

    async close() {
      await Promise.all([...open].map((s) => s.close({ leave: false })));
      await admin?.close().catch(() => undefined);
      await consumer?.close().catch(() => undefined);
    },
  };
}
