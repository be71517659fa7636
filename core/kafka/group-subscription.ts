import { offsetFetchV9, type ConnectionPool, type Consumer } from '@platformatic/kafka';
import type { PluginError } from '../errors.ts';
import { classifyKafkaError } from './classify.ts';
import { GroupCoordinator, type Broker } from './group-coordinator.ts';
import { GroupMember } from './group-member.ts';
import type { AssignedPartition, GroupSubscription, MembershipListener, SubscribeOptions } from './group-port.ts';
import { PlatformaticFetcher } from './platformatic-fetcher.ts';

export interface SubscriptionDeps {
  /** A client used only for group-less calls: metadata and Fetch. */
  clients: Consumer;
  /** The log start or end offset of each partition (where a partition with nothing committed starts). */
  listOffsets(topic: string, partitions: number[], at: 'earliest' | 'latest'): Promise<Map<number, bigint>>;
  bootstrap: Broker[];
  newPool(role: string): ConnectionPool;
  onClose(sub: GroupSubscription): void;
  report?(error: PluginError, doing: string): void;
}

/**
 * One group member subscribed to one topic: our KIP-848 membership (group-member.ts), a fetch session of its own
 * and commits under the member epoch. Positions belong to the caller, who learns of every ownership change.
 */
export async function openSubscription(o: SubscribeOptions, deps: SubscriptionDeps): Promise<GroupSubscription> {
  const coordinator = new GroupCoordinator(o.group, deps.bootstrap, () => deps.newPool('coordinator'));
  const newFetcher = () => new PlatformaticFetcher(deps.clients, deps.newPool('fetch'), o.topic, (pool) => void pool.close().catch(() => undefined));
  let fetcher = newFetcher();
  let topicId: string | undefined;
  const relay = new ListenerRelay();
  const member = new GroupMember(o, {
    coordinator,
    topicId: async () => (topicId ??= (await deps.clients.metadata({ topics: [o.topic] })).topics.get(o.topic)!.id),
    startPositions: async (partitions, m) => {
      const res = await coordinator.call(`reading committed offsets of group ${o.group}`, (c) => offsetFetchV9.api.async(c, [{
        groupId: o.group, memberId: m.memberId, memberEpoch: m.epoch, topics: [{ name: o.topic, partitionIndexes: partitions }],
      }], true));
      const found = new Map((res.groups[0]?.topics[0]?.partitions ?? []).filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, p]));
      const missing = partitions.filter((p) => !found.has(p));
      const reset = missing.length === 0 ? new Map<number, bigint>() : await deps.listOffsets(o.topic, missing, o.autoOffsetReset);
      return partitions.map((partition): AssignedPartition => {
        const c = found.get(partition);
        return c === undefined
          ? { partition, start: String(reset.get(partition) ?? 0n), committed: false, metadata: '' }
          : { partition, start: String(c.committedOffset), committed: true, metadata: c.metadata ?? '' };
      });
    },
    report: (error, doing) => deps.report?.(error, doing),
  });
  let closing: Promise<void> | undefined;
  const sub: GroupSubscription = {
    listen: (listener) => relay.listen(listener),
    fetch: (positions, options) => {
      const owned = new Map([...positions].filter(([p]) => member.owned.has(p)));
      return fetcher.fetch(owned, options);
    },
    commit: (offsets) => member.commit(offsets),
    async reconnect() {
      const old = fetcher;
      fetcher = newFetcher();
      await Promise.all([old.close(), coordinator.reconnect()]);
    },
    close({ leave }) {
      closing ??= (async () => {
        await member.close(leave);
        await fetcher.close();
        await coordinator.close();
        deps.onClose(sub);
      })();
      return closing;
    },
  };
  try {
    await member.join(relay);
  } catch (err) {
    await sub.close({ leave: true });
    throw classifyKafkaError(err, `joining group ${o.group} on ${o.topic}`);
  }
  return sub;
}

/** Holds ownership changes until the subscription's user listens, then passes them straight on. */
class ListenerRelay implements MembershipListener {
  readonly #owned = new Map<number, AssignedPartition>();
  #listener: MembershipListener | undefined;

  listen(listener: MembershipListener): void {
    this.#listener = listener;
    if (this.#owned.size > 0) listener.assigned([...this.#owned.values()]);
  }

  assigned(partitions: AssignedPartition[]): void {
    for (const p of partitions) this.#owned.set(p.partition, p);
    this.#listener?.assigned(partitions);
  }

  async revoked(partitions: number[]): Promise<void> {
    for (const p of partitions) this.#owned.delete(p);
    await this.#listener?.revoked(partitions);
  }
}
