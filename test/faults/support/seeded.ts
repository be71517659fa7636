/**
 * Seeded randomness for fault scenarios, so a failing run can be replayed: a small PRNG (mulberry32) for schedules,
 * and a hash of (seed, key) for per-message choices that must not depend on the order messages happen to arrive in.
 */
export class Seeded {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A number in [0, 1) fixed by the seed and `key` alone (FNV-1a, then mixed). */
  of(key: string): number {
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    // murmur3's finaliser: FNV alone leaves the high bits of similar keys close together.
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0) / 4_294_967_296;
  }
}

/** The seed of this run: PRISM_FAULTS_SEED when set (to replay a failure), else the scenario's fixed default. */
export function faultSeed(fallback: number): number {
  const given = Number(process.env.PRISM_FAULTS_SEED);
  return Number.isInteger(given) ? given : fallback;
}
