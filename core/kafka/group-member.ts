import { randomUUID } from 'node:crypto';
import { consumerGroupHeartbeatV1, offsetCommitV9 } from '@platformatic/kafka';
import { PluginError } from '../errors.ts';
import { hasKafkaError, kafkaErrorCode } from './classify.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { AssignedPartition, CommitOffset, MembershipListener, SubscribeOptions } from './group-port.ts';
import { Wakeup } from '../wakeup.ts';

/** ConsumerGroupHeartbeat member epochs with a meaning of their own (KIP-848). */
const LEAVE = -1;
const LEAVE_STATIC = -2;
/** How long the coordinator waits for this member to let go of revoked partitions. */
const REBALANCE_TIMEOUT_MS = 30_000;
/** The member is no longer in the group as it believes: everything it owned is gone, it joins again. */
const fenced = ['FENCED_MEMBER_EPOCH', 'UNKNOWN_MEMBER_ID'];
/** Refusals that retrying cannot change, when they come before the first successful join. */
const fatalCodes = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED', 'INVALID_ARGUMENT', 'NOT_FOUND', 'INTERNAL']);
/** Heartbeats a first join may fail (about 3 s with the backoff below) before the subscription gives up. */
const joinAttempts = 5;

export interface MemberDeps {
  coordinator: GroupCoordinator;
  /** The subscribed topic's id: assignments name topics by id. */
  topicId(): Promise<string>;
  /** Where each partition starts: committed offset and metadata, or the reset position. */
  startPositions(partitions: number[], member: { memberId: string; epoch: number }): Promise<AssignedPartition[]>;
  /** Membership trouble worth a log line (the loop retries by itself). */
  report?(error: PluginError, doing: string): void;
}

/**
 * One member of a consumer group under Kafka's consumer group protocol (KIP-848): the broker assigns partitions
 * across every member's subscription, revokes before it reassigns, and checks each commit's member epoch. This class
 * runs the heartbeat loop and reconciles ownership; it never fetches records.
 */
export class GroupMember {
  readonly #o: SubscribeOptions;
  readonly #deps: MemberDeps;
  #memberId: string = randomUUID();
  #epoch = 0;
  #owned = new Set<number>();
  #target = new Set<number>();
  #listener: MembershipListener | undefined;
  #intervalMs = 1_000;
  #failures = 0;
  #closed = false;
  #loop: Promise<void> | undefined;
  readonly #wake = new Wakeup();
  readonly #beat = new Wakeup();
  readonly #commits = new Set<Promise<unknown>>();
  #joined: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(options: SubscribeOptions, deps: MemberDeps) {
    this.#o = options;
    this.#deps = deps;
  }

  get owned(): ReadonlySet<number> {
    return this.#owned;
  }

  /** Starts the heartbeat loop; resolves once the coordinator knows the member (or is holding its instance id). */
  join(listener: MembershipListener): Promise<void> {
    this.#listener = listener;
    const joined = new Promise<void>((resolve, reject) => (this.#joined = { resolve, reject }));
    this.#loop = this.#run();
    return joined;
  }

  /** Commits under the current member epoch; a partition not owned now is refused before anything is sent. */
  async commit(offsets: ReadonlyMap<number, CommitOffset>): Promise<void> {
    const notOwned = [...offsets.keys()].filter((p) => !this.#owned.has(p));
    if (notOwned.length > 0) throw new PluginError('FAILED_PRECONDITION', `partitions ${notOwned.join(', ')} of ${this.#o.topic} are no longer assigned to this member of group ${this.#o.group}`);
    const send = (epoch: number) => this.#deps.coordinator.call(`committing offsets of group ${this.#o.group}`, (c) => offsetCommitV9.api.async(c, this.#o.group, epoch, this.#memberId, this.#o.instanceId, [{
      name: this.#o.topic,
      partitions: [...offsets].map(([partitionIndex, o]) => ({ partitionIndex, committedOffset: BigInt(o.offset), committedLeaderEpoch: -1, committedMetadata: o.metadata })),
    }]));
    const run = (async () => {
      const epoch = this.#epoch;
      try {
        await send(epoch);
      } catch (err) {
        if (!hasKafkaError(err, ['STALE_MEMBER_EPOCH'])) throw err;
        // A heartbeat answer in flight may carry the new epoch: wait for it, then try once more if still the owner.
        if (this.#epoch === epoch) await this.#beat.wait(2 * this.#intervalMs);
        const still = [...offsets.keys()].every((p) => this.#owned.has(p));
        if (!still || this.#epoch === epoch) throw new PluginError('FAILED_PRECONDITION', `the commit of group ${this.#o.group} was refused: this member's assignment changed (stale member epoch ${epoch})`, { cause: err });
        await send(this.#epoch);
      }
    })();
    this.#commits.add(run);
    try {
      await run;
    } finally {
      this.#commits.delete(run);
    }
  }

  /** Ends the membership: LEAVE hands partitions on now; a static member's temporary leave keeps them for a restart. */
  async close(leave: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake.notify();
    await this.#loop;
    await Promise.allSettled([...this.#commits]);
    if (this.#epoch > 0) {
      const epoch = leave ? LEAVE : LEAVE_STATIC;
      await this.#deps.coordinator.call(`leaving group ${this.#o.group}`, (c) => consumerGroupHeartbeatV1.api.async(c, this.#o.group, this.#memberId, epoch, this.#o.instanceId, null, 0, null, null, null, null)).catch(() => undefined);
    }
    this.#joined?.reject(new PluginError('CANCELLED', 'the subscription closed before it joined its group'));
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let delay: number;
      try {
        delay = await this.#heartbeat();
        this.#failures = 0;
        this.#beat.notify();
      } catch (err) {
        delay = await this.#failed(err);
      }
      if (!this.#closed && delay > 0) await this.#wake.wait(delay);
    }
  }

  async #heartbeat(): Promise<number> {
    const topicId = await this.#deps.topicId();
    const owned = [{ topicId, partitions: [...this.#owned].sort((a, b) => a - b) }];
    const res = await this.#deps.coordinator.call(`heartbeat of group ${this.#o.group}`, (c) => consumerGroupHeartbeatV1.api.async(
      c, this.#o.group, this.#memberId, this.#epoch, this.#o.instanceId, null, REBALANCE_TIMEOUT_MS, [this.#o.topic], null, null, this.#epoch === 0 ? [] : owned,
    ));
    if (this.#closed) return 0;
    this.#epoch = res.memberEpoch;
    if (res.heartbeatIntervalMs > 0) this.#intervalMs = res.heartbeatIntervalMs;
    if (res.assignment !== null) this.#target = new Set(res.assignment.topicPartitions.filter((t) => t.topicId === topicId).flatMap((t) => t.partitions));
    this.#joined?.resolve();
    this.#joined = undefined;
    return (await this.#reconcile()) ? 0 : this.#intervalMs;
  }

  /** Moves ownership towards the coordinator's target; true when the coordinator must hear of it at once. */
  async #reconcile(): Promise<boolean> {
    const revoked = [...this.#owned].filter((p) => !this.#target.has(p));
    const added = [...this.#target].filter((p) => !this.#owned.has(p));
    if (revoked.length > 0) await this.#revoke(revoked);
    if (added.length > 0) {
      const starts = await this.#deps.startPositions(added, { memberId: this.#memberId, epoch: this.#epoch });
      if (this.#closed) return false;
      for (const p of added) this.#owned.add(p);
      this.#listener?.assigned(starts);
    }
    return revoked.length > 0 || added.length > 0;
  }

  async #revoke(partitions: number[]): Promise<void> {
    for (const p of partitions) this.#owned.delete(p);
    await this.#listener?.revoked(partitions);
    // A commit already sent for them must land before the coordinator hands them to the next owner.
    await Promise.allSettled([...this.#commits]);
  }

  /** Decides how to go on after a failed heartbeat; returns the wait before the next one. */
  async #failed(err: unknown): Promise<number> {
    if (this.#closed) return 0;
    this.#failures++;
    const error = err instanceof PluginError ? err : new PluginError('INTERNAL', String((err as Error)?.message ?? err), { cause: err });
    if (hasKafkaError(err, fenced)) {
      // Whatever we owned may have another owner by now: let it all go, then join again as a new incarnation.
      await this.#revoke([...this.#owned]);
      this.#target.clear();
      this.#epoch = 0;
      if (hasKafkaError(err, ['UNKNOWN_MEMBER_ID'])) this.#memberId = randomUUID();
      this.#deps.report?.(error, 'rejoining the group');
      return this.#failures > 3 ? this.#intervalMs : 0;
    }
    if (hasKafkaError(err, ['UNRELEASED_INSTANCE_ID'])) {
      // The previous process under this instance id has not left: the broker releases it at its session timeout.
      this.#joined?.resolve();
      this.#joined = undefined;
      if (this.#failures === 1) this.#deps.report?.(error, 'waiting for the previous member with this id to expire');
      return this.#intervalMs;
    }
    const code = kafkaErrorCode(err)?.code ?? error.code;
    const refused = fatalCodes.has(code) || hasKafkaError(err, ['UNSUPPORTED_VERSION', 'UNSUPPORTED_ASSIGNOR', 'GROUP_MAX_SIZE_REACHED']);
    // A first join that keeps failing (brokers down) answers the caller instead of holding its call until the deadline.
    if (this.#joined !== undefined && (refused || this.#failures >= joinAttempts)) {
      this.#joined.reject(hasKafkaError(err, ['UNSUPPORTED_VERSION']) ? new PluginError('FAILED_PRECONDITION', `the brokers do not support the consumer group protocol (KIP-848, Kafka 4.0 or later): ${error.message}`, { cause: err }) : error);
      this.#joined = undefined;
      this.#closed = true;
      return 0;
    }
    if (this.#failures === 1 || this.#failures % 10 === 0) this.#deps.report?.(error, 'heartbeat failed; retrying');
    return Math.min(this.#intervalMs, 100 * 2 ** Math.min(this.#failures, 4));
  }
}
