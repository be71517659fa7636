import { describe, expect, it } from 'vitest';
import { Partitioner, stickyBytes } from '../../../../core/kafka/partitioner.ts';

/** The partitions chosen for `count` keyless records of `size` bytes, one call each (one record per request). */
function run(p: Partitioner, topic: string, partitions: number, size: number, count: number): number[] {
  return Array.from({ length: count }, () => p.sticky(topic, partitions, size));
}

/** Lengths of the runs of equal neighbours: [0,0,1,1,1] → [2,3]. */
function runs(xs: number[]): number[] {
  const out: number[] = [];
  xs.forEach((x, i) => (i > 0 && xs[i - 1] === x ? out[out.length - 1]!++ : out.push(1)));
  return out;
}

describe('Partitioner (Java-compatible keys, KIP-794 sticky keyless records)', () => {
  it('maps keys as the Java producer does (murmur2, positive, modulo)', () => {
    // Hashes from Apache Kafka's UtilsTest.testMurmur2; the partition is (hash & 0x7fffffff) % partitions.
    const cases: [string, number][] = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['abc', 479470107]];
    const p = new Partitioner();
    for (const [key, hash] of cases) expect(p.forKey(Buffer.from(key), 7), key).toBe((hash & 0x7fffffff) % 7);
  });

  it('keeps ten small keyless records, one per call, on one partition', () => {
    const chosen = run(new Partitioner(), 't', 3, 100, 10);
    expect(new Set(chosen).size).toBe(1);
  });

  it('moves on after about batch.size bytes: 1 KiB records in runs of 16', () => {
    const chosen = run(new Partitioner(() => 0), 't', 3, 1024, 64);
    // The 16th record reaches 16 KiB and completes the batch; the 17th starts the next partition.
    expect(runs(chosen)).toEqual([16, 16, 16, 16]);
    expect(chosen.filter((_, i) => i % 16 === 0)).toEqual([0, 1, 2, 0]);
  });

  it('counts bytes, not records: a record of batch.size bytes fills a batch alone', () => {
    expect(run(new Partitioner(() => 0), 't', 3, stickyBytes, 4)).toEqual([0, 1, 2, 0]);
  });

  it('starts each topic at a random partition and keeps topics apart', () => {
    const p = new Partitioner(() => 0.5);
    expect(p.sticky('a', 4, 10)).toBe(2);
    // 10 + 16 × 1024 bytes fill the batch at the 16th 1 KiB record; the 17th moves on.
    expect(run(p, 'a', 4, 1024, 17)).toEqual([...Array(16).fill(2), 3]);
    // Topic b has its own count: a's batch filled, b's has not.
    expect(p.sticky('b', 4, 10)).toBe(2);
  });

  it('follows a topic that gained partitions', () => {
    const p = new Partitioner(() => 0.99);
    expect(p.sticky('t', 3, 10)).toBe(2);
    expect(p.sticky('t', 2, 10)).toBe(0);
    expect(p.sticky('t', 6, stickyBytes)).toBe(2);
    expect(p.sticky('t', 6, 10)).toBe(3);
  });
});
