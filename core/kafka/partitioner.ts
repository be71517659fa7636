import { murmur2 } from '@platformatic/kafka';

/** Bytes of keyless records sent to one partition before the next one is used (Kafka's default batch.size). */
const stickyBytes = 16 * 1024;

/**
 * Chooses partitions the way Apache Kafka's Java producer does, so that one key lands on the same partition whoever
 * produced it: murmur2 of the key, made positive with a 0x7fffffff mask, modulo the partition count. Keyless records
 * stick to one partition for about one batch (Kafka's sticky partitioner): large batches, spread over partitions.
 */
export class Partitioner {
  readonly #sticky = new Map<string, number>();
  readonly #filled = new Map<string, number>();

  forKey(key: Buffer, partitions: number): number {
    return (murmur2(key) & 0x7fffffff) % partitions;
  }

  /** The sticky partition of `topic` for a keyless record of `size` bytes; moves on after about one batch. */
  sticky(topic: string, partitions: number, size: number): number {
    let p = this.#sticky.get(topic);
    if (p === undefined) {
      p = Math.floor(Math.random() * partitions);
      this.#sticky.set(topic, p);
    }
    const filled = (this.#filled.get(topic) ?? 0) + size;
    if (filled >= stickyBytes) {
      this.#sticky.set(topic, p + 1);
      this.#filled.set(topic, 0);
    } else this.#filled.set(topic, filled);
    return p % partitions;
  }

  /** Moves every topic's sticky partition on, after a flush. */
  rotate(): void {
    for (const [topic, p] of this.#sticky) this.#sticky.set(topic, p + 1);
    this.#filled.clear();
  }
}
