import { murmur2 } from '@platformatic/kafka';

/**
 * Chooses partitions the way Apache Kafka's Java producer does, so that one key lands on the same partition whoever
 * produced it: murmur2 of the key, made positive with a 0x7fffffff mask, modulo the partition count. Keyless records
 * stick to one partition per flush (Kafka's sticky partitioner), rotating between flushes, which keeps batches large.
 */
export class Partitioner {
  readonly #sticky = new Map<string, number>();

  forKey(key: Buffer, partitions: number): number {
    return (murmur2(key) & 0x7fffffff) % partitions;
  }

  /** The sticky partition of `topic` for the current flush. */
  sticky(topic: string, partitions: number): number {
    let p = this.#sticky.get(topic);
    if (p === undefined) {
      p = Math.floor(Math.random() * partitions);
      this.#sticky.set(topic, p);
    }
    return p % partitions;
  }

  /** Moves every topic's sticky partition on, after a flush. */
  rotate(): void {
    for (const [topic, p] of this.#sticky) this.#sticky.set(topic, p + 1);
  }
}
