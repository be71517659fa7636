import { Admin, Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError, hasKafkaError } from './classify.ts';
import { baseClientOptions, type SaslAuth } from './client-options.ts';
import type { GroupPort, GroupRecord, GroupSubscription, PartitionOffsets, SubscribeOptions } from './group-port.ts';

/** ListOffsets' special timestamps (Kafka protocol). */
const LATEST = -1n;
const EARLIEST = -2n;

function toRecord(m: Message): GroupRecord {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: String(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key === undefined || m.key === null || m.key.length === 0 ? undefined : m.key,
    value: m.value ?? Buffer.alloc(0),
    headers: m.headerEntries.map(([k, v]) => [k.toString(), v]),
    commit: async () => {
      await m.commit();
    },
  };
}

/** Consumer groups on @platformatic/kafka: one Consumer per subscription (one group member), manual commits only. */
export function createPlatformaticGroups(config: Config, auth?: SaslAuth): GroupPort {
  let admin: Admin | undefined;
  const getAdmin = () => (admin ??= new Admin({ ...baseClientOptions(config, 'group-admin', auth) }));
  const open = new Set<GroupSubscription>();

  async function listOffsets(topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const res = await getAdmin().listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
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
        // Joining a group for a topic that does not exist fails; create it first when the broker policy allows.
        const md = await getAdmin().metadata({ topics: [o.topic], autocreateTopics: config.kafka.autoCreateTopics });
        if (!md.topics.has(o.topic)) throw new PluginError('NOT_FOUND', `topic ${o.topic} does not exist`);
      } catch (err) {
        throw classifyKafkaError(err, `subscribing to ${o.topic}`);
      }
      const consumer = new Consumer({
        ...baseClientOptions(config, `consumer-${o.instanceId}`, auth),
        groupId: o.group,
        groupInstanceId: o.instanceId,
        sessionTimeout: o.sessionTimeoutMs,
        rebalanceTimeout: Math.max(o.sessionTimeoutMs, 30_000),
        heartbeatInterval: Math.min(1_000, Math.floor(o.sessionTimeoutMs / 3)),
        autocommit: false,
        highWaterMark: o.prefetch,
        maxWaitTime: 500,
      });
      const listeners: ((p: number[]) => void)[] = [];
      // The first join happens inside consume(), before anyone could listen: remember it and replay it.
      let current: number[] | undefined;
      consumer.on('consumer:group:join', (payload) => {
        current = payload.assignments?.find((a) => a.topic === o.topic)?.partitions ?? [];
        for (const l of listeners) l([...current]);
      });
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
      try {
        stream = await consumer.consume({ topics: [o.topic], mode: 'committed', fallbackMode: o.autoOffsetReset, autocommit: false });
      } catch (err) {
        await consumer.close(true).catch(() => undefined);
        throw classifyKafkaError(err, `joining group ${o.group} on ${o.topic}`);
      }
      const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Message>;
      let closing: Promise<void> | undefined;
      const sub: GroupSubscription = {
        records: {
          async next() {
            try {
              const r = await iterator.next();
              return r.done === true ? { done: true, value: undefined } : { done: false, value: toRecord(r.value) };
            } catch (err) {
              if (closing !== undefined) return { done: true, value: undefined };
              throw classifyKafkaError(err, `consuming ${o.topic} in group ${o.group}`);
            }
          },
        },
        onAssigned: (l) => {
          listeners.push(l);
          if (current !== undefined) l([...current]);
        },
        close({ leave }) {
          closing ??= (async () => {
            open.delete(sub);
            await stream.close().catch(() => undefined);
            // A static member that does not leave keeps its partitions until the session times out (restarts stay cheap).
            if (leave) await new Promise<void>((resolve) => consumer.leaveGroup(true, () => resolve()));
            await consumer.close(true).catch(() => undefined);
          })();
          return closing;
        },
      };
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
    },
  };
}
