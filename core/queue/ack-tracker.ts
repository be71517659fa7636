interface Slot<T> {
  offset: bigint;
  acked: boolean;
  item: T;
}

/**
 * Tracks delivered offsets per partition and computes how far the group may commit: up to the lowest offset that is
 * still unacknowledged. Out-of-order acks are remembered until everything before them is acknowledged too.
 */
export class AckTracker<T = undefined> {
  readonly #partitions = new Map<number, Slot<T>[]>();

  /** Records a delivery; offsets of one partition arrive in increasing order. */
  deliver(partition: number, offset: bigint, item: T): void {
    let slots = this.#partitions.get(partition);
    if (slots === undefined) this.#partitions.set(partition, (slots = []));
    slots.push({ offset, acked: false, item });
  }

  /** The last offset delivered on the partition, if any is outstanding. */
  lastDelivered(partition: number): bigint | undefined {
    return this.#partitions.get(partition)?.at(-1)?.offset;
  }

  /**
   * Acknowledges one offset. Returns the delivery at the highest offset now safe to commit (every delivered offset up
   * to it is acknowledged), or undefined when the commit point did not move.
   */
  ack(partition: number, offset: bigint): { offset: bigint; item: T } | undefined {
    const slots = this.#partitions.get(partition);
    const slot = slots?.find((s) => s.offset === offset && !s.acked);
    if (slots === undefined || slot === undefined) return undefined;
    slot.acked = true;
    let committable: Slot<T> | undefined;
    while (slots.length > 0 && slots[0]!.acked) committable = slots.shift()!;
    return committable === undefined ? undefined : { offset: committable.offset, item: committable.item };
  }

  /** Forgets a partition (revoked, or refetched after a rejoin). */
  reset(partition?: number): void {
    if (partition === undefined) this.#partitions.clear();
    else this.#partitions.delete(partition);
  }

  /** Delivered and not yet acknowledged, over all partitions. */
  get unacked(): number {
    let n = 0;
    for (const slots of this.#partitions.values()) for (const s of slots) if (!s.acked) n++;
    return n;
  }
}
