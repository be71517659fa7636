import { murmur2 } from '@platformatic/kafka';

/** Bytes of keyless records sent to one partition before the next one is used (Kafka's default batch.size). */
export const stickyBytes = 16 * 1024;

/**
 * Chooses partitions the way Apache Kafka's Java producer does, so that one key lands on the same partition whoever
 * produced it: murmur2 of the key, made positive with a 0x7fffffff mask, modulo the partition count.
 *
 * Keyless records follow KIP-794 ("uniform sticky"): they stay on one partition until about `batch.size` bytes went
 * to it, then move on, whether they came in one produce request or in many. Counting bytes rather than requests is
 * the point: moving on after every request would spread a caller's sequential publishes round robin (tiny batches,
 * and no order even among a single caller's keyless records), which is what KIP-794 fixed in Java's producer.
 */
export class Partitioner {
  readonly #sticky = new Map<string, { partition: number; filled: number }>();
  readonly #random: () => number;

  /** `random` (in [0, 1)) picks each topic's first partition; a seam for tests. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  forKey(key: Buffer, partitions: number): number {
    return (murmur2(key) & 0x7fffffff) % partitions;
  }

  /**
   * The partition of `topic` for a keyless record of `size` bytes. The record that fills the batch still goes to
   * the current partition (as in Java, where it completes the batch); the next one starts on the following partition.
   */
  sticky(topic: string, partitions: number, size: number): number {
    let state = this.#sticky.get(topic);
    if (state === undefined) {
      // A random start, so that many producers do not all begin on partition 0.
      state = { partition: Math.floor(this.#random() * partitions), filled: 0 };
      this.#sticky.set(topic, state);
    }
    // Modulo on use: the topic may have gained partitions since the last record.
    const partition = state.partition % partitions;
    state.filled += size;
    if (state.filled >= stickyBytes) {
      state.partition = (partition + 1) % partitions;
      state.filled = 0;
    }
    return partition;
  }
}
