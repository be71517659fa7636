import { PluginError } from '../../core/errors.ts';
import type { AssignedPartition, CommitOffset, GroupPort, GroupSubscription, MembershipListener, PartitionOffsets, SubscribeOptions } from '../../core/kafka/group-port.ts';
import type { FetchOptions, PartitionRecords } from '../../core/kafka/reader-port.ts';
import type { ConsumedRecord } from '../../core/kafka/records.ts';
import type { FakeLog } from './fake-reader.ts';

/** Where a fake subscription reads: records of a partition (offset order) and a wait for new ones. */
export interface FakeSource {
  records(partition: number): ConsumedRecord[];
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What a subscription tells the group it is a member of (FakeGroups): its commits and its close. */
export interface FakeMembership {
  commit(offsets: ReadonlyMap<number, CommitOffset>): void;
  close(leave: boolean): void;
}

/**
 * A group member. Alone it is driven by the test: push records, assign and revoke partitions (revocation waits for
 * the listener as the real member does), observe commits. FakeGroups drives it as the coordinator. Either way it
 * owes what the group contract suite pins: fetch answers only owned partitions (others get nothing, at once), a
 * commit for a partition not owned is refused with FAILED_PRECONDITION, and a closed member refuses work with
 * UNAVAILABLE.
 */
export class FakeSubscription implements GroupSubscription {
  readonly commits: { partition: number; offset: string; metadata: string }[] = [];
  closed: { leave: boolean } | undefined;
  failCommits = false;
  reconnects = 0;
  readonly #pushed = new Map<number, ConsumedRecord[]>();
  readonly #owned = new Set<number>();
  readonly #assigned = new Map<number, AssignedPartition>();
  #listener: MembershipListener | undefined;
  #wake: (() => void)[] = [];
  readonly #source: FakeSource;
  readonly #membership: FakeMembership | undefined;

  constructor(source?: FakeSource, membership?: FakeMembership) {
    this.#membership = membership;
    this.#source = source ?? {
      records: (p) => this.#pushed.get(p) ?? [],
      waitForAppend: (ms) => new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    };
  }

  push(partition: number, offset: number, value = `v${partition}-${offset}`): void {
    const list = this.#pushed.get(partition) ?? [];
    list.push({ topic: 't', partition, offset: String(offset), timestamp: 1_000 + offset, key: undefined, value: Buffer.from(value), headers: [['prism-message-id', Buffer.from(`id-${partition}-${offset}`)]] });
    this.#pushed.set(partition, list);
    for (const w of this.#wake.splice(0)) w();
  }

  /** Assigns partitions starting at `start` (the committed offset), with optional committed metadata. */
  assign(partitions: number[], start = '0', metadata = ''): void {
    this.assignPartitions(partitions.map((partition) => ({ partition, start, committed: start !== '0', metadata })));
  }

  /** Assigns partitions with where each starts, as the coordinator reports them; those already owned are skipped. */
  assignPartitions(partitions: AssignedPartition[]): void {
    const added = partitions.filter((a) => !this.#owned.has(a.partition));
    for (const a of added) {
      this.#owned.add(a.partition);
      this.#assigned.set(a.partition, a);
    }
    if (added.length > 0) this.#listener?.assigned(added);
  }

  async revoke(partitions: number[]): Promise<void> {
    for (const p of partitions) {
      this.#owned.delete(p);
      this.#assigned.delete(p);
    }
    await this.#listener?.revoked(partitions);
  }

  get owned(): number[] {
    return [...this.#owned];
  }

  listen(listener: MembershipListener): void {
    this.#listener = listener;
    if (this.#assigned.size > 0) listener.assigned([...this.#assigned.values()]);
  }

  async fetch(positions: ReadonlyMap<number, string>, options: FetchOptions): Promise<PartitionRecords[]> {
    const until = Date.now() + options.maxWaitMs;
    for (;;) {
      if (this.closed !== undefined) throw new PluginError('UNAVAILABLE', 'the subscription is closed');
      if (options.signal?.aborted === true) throw new PluginError('CANCELLED', 'the read was cancelled');
      const owned = [...positions].filter(([p]) => this.#owned.has(p));
      if (owned.length === 0) return [];
      const out: PartitionRecords[] = [];
      for (const [partition, from] of owned) {
        const records = this.#source.records(partition).filter((r) => BigInt(r.offset) >= BigInt(from));
        if (records.length > 0) out.push({ partition, records, nextOffset: String(BigInt(records.at(-1)!.offset) + 1n), bytes: 0 });
      }
      if (out.length > 0 || Date.now() >= until) return out;
      await this.#source.waitForAppend(Math.max(1, until - Date.now()), options.signal);
    }
  }

  commit(offsets: ReadonlyMap<number, CommitOffset>): Promise<void> {
    if (this.failCommits) return Promise.reject(new PluginError('UNAVAILABLE', 'commit failed: COORDINATOR_NOT_AVAILABLE'));
    const notOwned = [...offsets.keys()].filter((p) => !this.#owned.has(p));
    if (notOwned.length > 0) return Promise.reject(new PluginError('FAILED_PRECONDITION', `partitions ${notOwned.join(', ')} are no longer assigned to this member`));
    if (this.closed !== undefined) return Promise.reject(new PluginError('UNAVAILABLE', 'commit failed: the subscription is closed'));
    for (const [partition, c] of offsets) this.commits.push({ partition, offset: c.offset, metadata: c.metadata });
    this.#membership?.commit(offsets);
    return Promise.resolve();
  }

  /** Offsets committed without metadata (acks), as "partition=offset". */
  get acked(): string[] {
    return this.commits.filter((c) => c.metadata === '').map((c) => `${c.partition}=${c.offset}`);
  }

  reconnect(): Promise<void> {
    this.reconnects++;
    return Promise.resolve();
  }

  close(options: { leave: boolean }): Promise<void> {
    if (this.closed === undefined) {
      this.closed = options;
      this.#membership?.close(options.leave);
    }
    for (const w of this.#wake.splice(0)) w();
    return Promise.resolve();
  }
}

interface Member {
  options: SubscribeOptions;
  sub: FakeSubscription;
  /** Partitions this member takes first: those its instance id held when it closed without leaving. */
  claims: number[];
  /** Closed without leaving (static membership): its partitions stay reserved for a member with its instance id. */
  held?: { partitions: number[]; expiry: NodeJS.Timeout };
}

const keyOf = (group: string, topic: string) => `${group}/${topic}`;

/**
 * Consumer groups over a FakeLog, as the coordinator runs them: the members of a group on a topic share its
 * partitions (sticky, no overlap), and a partition moves only after its revocation settled at the old owner. A
 * member that leaves hands its partitions on at once; one that closes without leaving keeps them for
 * `sessionTimeoutMs`, or until a member with its instance id takes them back. `seek` commits like Kafka's admin
 * commit, refused while the group has members; `busyCommits` makes the next seeks fail as a busy group would.
 * `committed` holds what acks and seeks committed (a test may set it); commits carrying metadata (a session's
 * attempt counts, ADR 0005) are kept beside it. Both are where a new member starts and what `offsets` reports.
 */
export class FakeGroups implements GroupPort {
  readonly committed = new Map<string, Map<number, string>>();
  /** Members of each group, as the coordinator counts them (live, and closed without leaving until they expire). */
  readonly members = new Map<string, number>();
  readonly joined: SubscribeOptions[] = [];
  busyCommits = 0;
  readonly #annotated = new Map<string, Map<number, CommitOffset>>();
  readonly #groups = new Map<string, Member[]>();
  #rebalancing = Promise.resolve();
  readonly #sessionTimeoutMs: number;

  constructor(private readonly log: FakeLog, options: { sessionTimeoutMs?: number } = {}) {
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
  }

  async subscribe(options: SubscribeOptions): Promise<GroupSubscription> {
    const { group, topic } = options;
    const partitions = this.#partitionsOf(topic);
    this.joined.push(options);
    const members = this.#groups.get(keyOf(group, topic)) ?? [];
    this.#groups.set(keyOf(group, topic), members);
    const earlier = members.find((m) => m.held !== undefined && m.options.instanceId === options.instanceId);
    const member: Member = {
      options,
      claims: earlier?.held?.partitions ?? [],
      sub: new FakeSubscription(
        { records: (p) => partitions[p] ?? [], waitForAppend: (ms, signal) => this.log.waitForAppend(ms, signal) },
        { commit: (offsets) => this.#commit(group, topic, offsets), close: (leave) => this.#closed(member, leave) },
      ),
    };
    // A member with a held member's instance id takes its place (and its partitions): the coordinator sees one member.
    if (earlier === undefined) {
      members.push(member);
      this.#count(group, +1);
    } else {
      clearTimeout(earlier.held?.expiry);
      members.splice(members.indexOf(earlier), 1, member);
    }
    await this.#rebalance(group, topic);
    return member.sub;
  }

  offsets(group: string, topic: string): Promise<PartitionOffsets[]> {
    return answer(() => this.#partitionsOf(topic).map((records, partition) => ({
      partition, committed: this.#committed(group, topic, partition)?.offset, end: String(records.length), start: '0',
    })));
  }

  seek(group: string, topic: string, to: Parameters<GroupPort['seek']>[2]): Promise<Map<number, string>> {
    return answer(() => {
      if (this.busyCommits > 0 || (this.members.get(group) ?? 0) > 0) {
        this.busyCommits = Math.max(0, this.busyCommits - 1);
        throw new PluginError('FAILED_PRECONDITION', `group ${group} has active members; stop its consumers before seeking`);
      }
      const at = (records: ConsumedRecord[]) => ('earliest' in to ? 0 : 'timestamp' in to ? firstAt(records, to.timestamp) : records.length);
      const target = 'offsets' in to ? new Map(to.offsets) : new Map(this.#partitionsOf(topic).map((records, p) => [p, String(at(records))]));
      for (const [p, offset] of target) this.#store(group, topic, p, { offset, metadata: '' });
      return target;
    });
  }

  /** Closes every open subscription without leaving, as a process that stops does. */
  async close(): Promise<void> {
    const all = [...this.#groups.values()].flat();
    await Promise.all(all.map((m) => m.sub.close({ leave: false })));
  }

  #partitionsOf(topic: string): ConsumedRecord[][] {
    return this.log.get(topic).partitions;
  }

  #count(group: string, by: number): void {
    this.members.set(group, (this.members.get(group) ?? 0) + by);
  }

  #committed(group: string, topic: string, partition: number): CommitOffset | undefined {
    const annotated = this.#annotated.get(keyOf(group, topic))?.get(partition);
    if (annotated !== undefined) return annotated;
    const offset = this.committed.get(keyOf(group, topic))?.get(partition);
    return offset === undefined ? undefined : { offset, metadata: '' };
  }

  #store(group: string, topic: string, partition: number, c: CommitOffset): void {
    const key = keyOf(group, topic);
    if (c.metadata === '') {
      this.#annotated.get(key)?.delete(partition);
      this.committed.set(key, (this.committed.get(key) ?? new Map<number, string>()).set(partition, c.offset));
    } else {
      this.#annotated.set(key, (this.#annotated.get(key) ?? new Map<number, CommitOffset>()).set(partition, c));
    }
  }

  #commit(group: string, topic: string, offsets: ReadonlyMap<number, CommitOffset>): void {
    for (const [p, c] of offsets) this.#store(group, topic, p, c);
  }

  #closed(member: Member, leave: boolean): void {
    if (leave) this.#drop(member);
    else {
      const expiry = setTimeout(() => {
        this.#drop(member);
        void this.#rebalance(member.options.group, member.options.topic);
      }, this.#sessionTimeoutMs);
      expiry.unref();
      member.held = { partitions: member.sub.owned, expiry };
    }
    void this.#rebalance(member.options.group, member.options.topic);
  }

  #drop(member: Member): void {
    clearTimeout(member.held?.expiry);
    const members = this.#groups.get(keyOf(member.options.group, member.options.topic)) ?? [];
    const i = members.indexOf(member);
    if (i < 0) return;
    members.splice(i, 1);
    this.#count(member.options.group, -1);
  }

  /** Runs one rebalance at a time, in order. */
  #rebalance(group: string, topic: string): Promise<void> {
    this.#rebalancing = this.#rebalancing.then(() => this.#reassign(group, topic));
    return this.#rebalancing;
  }

  /** Moves ownership to a sticky, even split over the live members: revocations settle before anyone is assigned. */
  async #reassign(group: string, topic: string): Promise<void> {
    const members = this.#groups.get(keyOf(group, topic)) ?? [];
    const reserved = new Set(members.flatMap((m) => m.held?.partitions ?? []));
    const live = members.filter((m) => m.sub.closed === undefined);
    const free = this.#partitionsOf(topic).map((_, p) => p).filter((p) => !reserved.has(p));
    const left = new Set(free);
    const quota = (i: number) => Math.floor(free.length / live.length) + (i < free.length % live.length ? 1 : 0);
    const target = live.map((m, i) => {
      const keep = [...new Set([...m.claims, ...m.sub.owned])].filter((p) => left.has(p)).slice(0, quota(i));
      for (const p of keep) left.delete(p);
      return keep;
    });
    target.forEach((t, i) => {
      for (const p of [...left].sort((a, b) => a - b).slice(0, quota(i) - t.length)) {
        left.delete(p);
        t.push(p);
      }
    });
    await Promise.all(live.map((m, i) => {
      const revoked = m.sub.owned.filter((p) => !target[i]!.includes(p));
      return revoked.length > 0 ? m.sub.revoke(revoked) : Promise.resolve();
    }));
    live.forEach((m, i) => {
      m.claims = [];
      if (m.sub.closed !== undefined) return;
      const added = target[i]!.filter((p) => !m.sub.owned.includes(p));
      if (added.length > 0) m.sub.assignPartitions(added.map((p) => this.#start(m.options, p)));
    });
  }

  #start(o: SubscribeOptions, partition: number): AssignedPartition {
    const c = this.#committed(o.group, o.topic, partition);
    if (c !== undefined) return { partition, start: c.offset, committed: true, metadata: c.metadata };
    const reset = o.autoOffsetReset === 'earliest' ? 0 : (this.#partitionsOf(o.topic)[partition]?.length ?? 0);
    return { partition, start: String(reset), committed: false, metadata: '' };
  }
}

/** Runs `fn` as the real port answers: a rejected promise, never a synchronous throw. */
function answer<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The offset of the first record at or after `timestamp`, or the end when there is none. */
function firstAt(records: ConsumedRecord[], timestamp: number): number {
  const i = records.findIndex((r) => r.timestamp >= timestamp);
  return i < 0 ? records.length : i;
}
