import type { GroupPort } from '../kafka/group-port.ts';
import type { QueueSession } from './session.ts';

/**
 * The open queue sessions of this process, so that Ack and Nack (separate calls) reach the session that delivered a
 * receipt. A receipt names its session: `<session id>:<generation>:<partition>:<offset>`.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, QueueSession>();
  #shuttingDown = false;

  /**
   * From now on, ending a stream keeps its group membership: the process is draining, and a static member that
   * comes back under the same id within the session timeout gets its partitions back without a rebalance.
   */
  keepMembership(): void {
    this.#shuttingDown = true;
  }

  /** Whether a stream that ends now should leave its group (a client that went away: move its partitions now). */
  get leaveOnClose(): boolean {
    return !this.#shuttingDown;
  }

  add(session: QueueSession): void {
    this.#sessions.set(session.options.id, session);
  }

  remove(session: QueueSession): void {
    if (this.#sessions.get(session.options.id) === session) this.#sessions.delete(session.options.id);
  }

  get(id: string): QueueSession | undefined {
    return this.#sessions.get(id);
  }

  /** Sessions with this subscriber id (static member id), in one group or any. */
  bySubscriber(subscriberId: string, group?: string): QueueSession[] {
    return [...this.#sessions.values()].filter((s) => (group === undefined || s.options.group === group) && s.options.id.startsWith(`${subscriberId}~`));
  }

  get size(): number {
    return this.#sessions.size;
  }

  get unacked(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.unacked;
    return n;
  }

  /** Moves every session to a new subscription under its member id (after a credential rotation). */
  async resubscribeAll(groups: GroupPort): Promise<void> {
    await Promise.all([...this.#sessions.values()].map(async (s) => {
      const options = s.options.subscribe;
      if (options !== undefined) await s.resubscribe(() => groups.subscribe(options));
    }));
  }

  /** Closes every session; on shutdown without leaving the group, so a restart keeps the assignment (static membership). */
  async closeAll(leave: boolean): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((s) => s.close(leave)));
  }
}

/** Splits a receipt into its session id and the rest; undefined when it is not one of ours. */
export function parseReceipt(receipt: string): { sessionId: string } | undefined {
  const m = /^(.+):(\d+):(\d+):(\d+)$/.exec(receipt);
  return m === null ? undefined : { sessionId: m[1]! };
}
