import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../../adapters/grpc/callback/backoff.ts';

describe('reconnect backoff', () => {
  it('doubles from the initial delay up to the cap, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('shortens each delay by up to the jitter fraction', () => {
    const b = new Backoff({ initialMs: 1_000, maxMs: 10_000, jitter: 0.2, random: () => 1 });
    expect(b.next()).toBe(800);
  });
});
