import type { QueueSession } from './session.ts';

/**
 * The open queue sessions of this process, so that Ack and Nack (separate calls) reach the session that delivered a
 * receipt. A receipt names its session (see receipt.ts).
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

  /** Moves every session to new broker connections (after a credential rotation); memberships and receipts stay. */
  async reconnectAll(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.reconnect()));
  }

  /** Closes every session; on shutdown without leaving the group, so a restart keeps the assignment (static membership). */
  async closeAll(leave: boolean): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((s) => s.close(leave)));
  }
}
