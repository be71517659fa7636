import type { GroupRecord, GroupSubscription } from '../../core/kafka/group-port.ts';

/** A consumer-group subscription driven by the test: push records, reassign partitions, observe commits. */
export class FakeSubscription implements GroupSubscription {
  readonly commits: { partition: number; offset: string }[] = [];
  closed: { leave: boolean } | undefined;
  readonly #queue: GroupRecord[] = [];
  readonly #waiting: ((r: IteratorResult<GroupRecord>) => void)[] = [];
  readonly #listeners: ((p: number[]) => void)[] = [];
  failCommits = false;

  readonly records: AsyncIterator<GroupRecord> = {
    next: () => {
      const r = this.#queue.shift();
      if (r !== undefined) return Promise.resolve({ done: false, value: r });
      if (this.closed !== undefined) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => this.#waiting.push(resolve));
    },
  };

  push(partition: number, offset: number, value = `v${partition}-${offset}`): void {
    const record: GroupRecord = {
      topic: 't', partition, offset: String(offset), timestamp: 1_000 + offset, key: undefined, value: Buffer.from(value),
      headers: [['prism-message-id', Buffer.from(`id-${partition}-${offset}`)]],
      commit: () => {
        if (this.failCommits) return Promise.reject(new Error('REBALANCE_IN_PROGRESS'));
        this.commits.push({ partition, offset: String(offset + 1) });
        return Promise.resolve();
      },
    };
    const w = this.#waiting.shift();
    if (w !== undefined) w({ done: false, value: record });
    else this.#queue.push(record);
  }

  assign(partitions: number[]): void {
    for (const l of this.#listeners) l(partitions);
  }

  onAssigned(listener: (partitions: number[]) => void): void {
    this.#listeners.push(listener);
  }

  close(options: { leave: boolean }): Promise<void> {
    this.closed = options;
    for (const w of this.#waiting.splice(0)) w({ done: true, value: undefined });
    return Promise.resolve();
  }
}
