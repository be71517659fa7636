import type { FetchOptions, PartitionRecords } from './reader-port.ts';

/**
 * The group port: consumer-group membership with manual commits, in our own types. A subscription is one group member
 * (static: `instanceId`) subscribed to one topic. It reports which partitions it owns and where each starts; the caller
 * owns the positions from there (fetching, delivering, committing). The real adapter (platformatic-groups.ts) speaks
 * Kafka's consumer group protocol (KIP-848, ADR 0004); the fake in test/support runs the same contract suite.
 */

export interface SubscribeOptions {
  topic: string;
  group: string;
  /** Static membership (group.instance.id): a member that closes without leaving keeps its partitions for a restart. */
  instanceId: string;
  /** Where a partition with no committed offset starts. */
  autoOffsetReset: 'earliest' | 'latest';
}

/** A partition newly owned by this member, with where delivery starts. */
export interface AssignedPartition {
  partition: number;
  /** The group's committed offset, or the reset position when nothing is committed: the next offset to deliver. */
  start: string;
  /** Whether `start` is a committed offset (false: the reset position). */
  committed: boolean;
  /** The metadata string committed with `start` ('' when none). */
  metadata: string;
}

/** Told of every ownership change, in order. */
export interface MembershipListener {
  assigned(partitions: AssignedPartition[]): void;
  /**
   * These partitions are no longer this member's. The coordinator is told only once the promise settles: finish or
   * abandon in-flight commits of them first, so no commit for a partition lands after its new owner started.
   */
  revoked(partitions: number[]): Promise<void>;
}

export interface CommitOffset {
  /** The next offset to consume (one past the last acknowledged). */
  offset: string;
  /** Stored with the offset (attempt counts, ADR 0005); '' for none. */
  metadata: string;
}

export interface GroupSubscription {
  /** Registers the listener; partitions already owned are reported to it at once. */
  listen(listener: MembershipListener): void;
  /** Reads owned partitions from the given positions (see Fetcher.fetch); positions of other partitions are refused. */
  fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]>;
  /**
   * Commits under the member's current epoch. Rejects with FAILED_PRECONDITION when a partition is not owned by this
   * member (any more), UNAVAILABLE when the coordinator cannot be reached; nothing is committed for that partition then.
   */
  commit(offsets: ReadonlyMap<number, CommitOffset>): Promise<void>;
  /** Drops every broker connection and reconnects with the current credentials; membership and ownership stay. */
  reconnect(): Promise<void>;
  /** Stops the membership: `leave` hands the partitions on at once; otherwise a static member keeps them for its session timeout. */
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
