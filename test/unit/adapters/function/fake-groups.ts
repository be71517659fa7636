import { PluginError } from '../../../../core/errors.ts';
import type { GroupPort, GroupRecord, GroupSubscription, PartitionOffsets, SubscribeOptions } from '../../../../core/kafka/group-port.ts';
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
    let closed = false;
    let p = 0;
    const listeners: ((ps: number[]) => void)[] = [];
    const sub: GroupSubscription = {
      records: {
        next: async (): Promise<IteratorResult<GroupRecord>> => {
          for (;;) {
            if (closed) return { done: true, value: undefined };
            for (let i = 0; i < partitions.length; i++, p = (p + 1) % partitions.length) {
              const record = partitions[p]![positions[p]!];
              if (record !== undefined) {
                positions[p]!++;
                return { done: false, value: { ...record, commit: () => Promise.reject(new Error('members do not commit in function mode')) } };
              }
            }
            await this.log.waitForAppend(20);
          }
        },
      },
      onAssigned: (l) => {
        listeners.push(l);
        l(partitions.map((_, i) => i));
      },
      close: () => {
        if (!closed) this.members.set(group, (this.members.get(group) ?? 1) - 1);
        closed = true;
        return Promise.resolve();
      },
    };
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
