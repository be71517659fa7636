import type { ConsumedRecord } from './records.ts';

/** A record delivered through a consumer group; `commit()` commits everything up to and including it. */
export interface GroupRecord extends ConsumedRecord {
  commit(): Promise<void>;
}

export interface SubscribeOptions {
  topic: string;
  group: string;
  /** Static membership (group.instance.id): a restart under the same id does not rebalance the group. */
  instanceId: string;
  /** Where a group with no committed offset starts. */
  autoOffsetReset: 'earliest' | 'latest';
  /** Records fetched ahead of the reader; bounds memory. */
  prefetch: number;
  sessionTimeoutMs: number;
}

export interface GroupSubscription {
  /** Records of the partitions currently assigned, in partition order; ends when the subscription closes. */
  records: AsyncIterator<GroupRecord>;
  /** Called with the partitions of the topic assigned to this member after each (re)join. */
  onAssigned(listener: (partitions: number[]) => void): void;
  /** Stops fetching; `leave` tells the group at once (partitions move now), otherwise they move after the session timeout. */
  close(options: { leave: boolean }): Promise<void>;
}

/** Committed and end offsets of one partition; lag = end − committed (or end − start when nothing is committed). */
export interface PartitionOffsets {
  partition: number;
  committed: string | undefined;
  end: string;
  start: string;
}

/** Consumer groups: membership with manual commits, and the group's offsets. */
export interface GroupPort {
  subscribe(options: SubscribeOptions): Promise<GroupSubscription>;
  offsets(group: string, topic: string): Promise<PartitionOffsets[]>;
  /** Sets the group's committed offsets (the group must have no active members, as Kafka requires). */
  seek(group: string, topic: string, to: { earliest: true } | { latest: true } | { timestamp: number } | { offsets: Map<number, string> }): Promise<Map<number, string>>;
  close(): Promise<void>;
}
