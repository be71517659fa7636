import { PluginError } from '../../../../core/errors.ts';
import type { GroupPort, GroupSubscription, PartitionOffsets, SubscribeOptions } from '../../../../core/kafka/group-port.ts';
import { FakeSubscription } from '../../../support/fake-group.ts';
import type { FakeLog } from '../../../support/fake-reader.ts';

/**
 * Consumer groups over a FakeLog: a member gets every partition and reads from the group's committed offsets (or
 * the start); `seek` commits like Kafka's admin commit, refused while the group has members. `busyCommits` makes
 * the next commits fail as a group with members would.
 */
export class FakeGroups implements GroupPort {
  readonly committed = new Map<string, Map<number, string>>();
  readonly members = new Map<string, number>();
  readonly joined: SubscribeOptions[] = [];
  busyCommits = 0;

  constructor(private readonly log: FakeLog) {}

  subscribe(options: SubscribeOptions): Promise<GroupSubscription> {
    this.joined.push(options);
    const { group, topic } = options;
    this.members.set(group, (this.members.get(group) ?? 0) + 1);
    const partitions = this.log.get(topic).partitions;
    const positions = partitions.map((_, p) => Number(this.committed.get(`${group}/${topic}`)?.get(p) ?? 0));
    const sub = new FakeSubscription({ records: (p) => partitions[p] ?? [], waitForAppend: (ms, signal) => this.log.waitForAppend(ms, signal) });
    const close = sub.close.bind(sub);
    sub.close = (o) => {
      if (sub.closed === undefined) this.members.set(group, (this.members.get(group) ?? 1) - 1);
      return close(o);
    };
    // Function-mode members commit nothing but their attempt counts (ack goes through seek, while the group is empty).
    sub.commit = () => Promise.resolve();
    partitions.forEach((_, p) => sub.assign([p], positions[p] === undefined ? '0' : String(positions[p])));
    return Promise.resolve(sub);
  }

  offsets(group: string, topic: string): Promise<PartitionOffsets[]> {
    const mine = this.committed.get(`${group}/${topic}`);
    return Promise.resolve(this.log.get(topic).partitions.map((records, partition) => ({ partition, committed: mine?.get(partition), end: String(records.length), start: '0' })));
  }

  seek(group: string, topic: string, to: Parameters<GroupPort['seek']>[2]): Promise<Map<number, string>> {
    if (this.busyCommits > 0 || (this.members.get(group) ?? 0) > 0) {
      this.busyCommits = Math.max(0, this.busyCommits - 1);
      return Promise.reject(new PluginError('FAILED_PRECONDITION', `group ${group} has active members; stop its consumers before seeking`));
    }
    if (!('offsets' in to)) return Promise.reject(new Error('only explicit offsets in this fake'));
    const key = `${group}/${topic}`;
    const mine = this.committed.get(key) ?? new Map<number, string>();
    for (const [p, o] of to.offsets) mine.set(p, o);
    this.committed.set(key, mine);
    return Promise.resolve(new Map(to.offsets));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
