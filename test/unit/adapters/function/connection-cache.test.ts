import { describe, expect, it } from 'vitest';
import { ConnectionCache } from '../../../../adapters/function/connection-cache.ts';

/** A cache of numbered "connection sets" whose builds the test can hold, fail and count. */
function cache(options: { fail?: (n: number) => boolean } = {}) {
  let built = 0;
  const disposed: number[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const c = new ConnectionCache<{ n: number }>(async () => {
    const n = ++built;
    if (hold) await new Promise<void>((r) => (release = r));
    if (options.fail?.(n) === true) throw new Error(`build ${n} failed`);
    return { n };
  }, (v) => {
    disposed.push(v.n);
    return Promise.resolve();
  });
  return {
    c,
    disposed,
    get built() {
      return built;
    },
    hold: () => (hold = true),
    finish: () => {
      hold = false;
      release?.();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('the connection cache', () => {
  it('builds once for concurrent first invocations and reuses the value for warm ones', async () => {
    const t = cache();
    t.hold();
    const first = Promise.all(Array.from({ length: 10 }, () => t.c.acquire()));
    await tick();
    t.finish();
    const leases = await first;
    expect(new Set(leases.map((l) => l.value)).size).toBe(1);
    for (const l of leases) l.release();
    for (let i = 0; i < 1_000; i++) (await t.c.acquire()).release();
    expect(t.built).toBe(1);
    expect(t.c.stats).toEqual({ builds: 1, failedBuilds: 0, disposals: 0 });
    expect(t.disposed).toEqual([]);
  });

  it('forgets a failed build, so the next invocation builds again (and everyone waiting on it sees the error)', async () => {
    const t = cache({ fail: (n) => n === 1 });
    const both = await Promise.allSettled([t.c.acquire(), t.c.acquire()]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const lease = await t.c.acquire();
    expect(lease.value.n).toBe(2);
    expect(lease.generation).toBe(2);
    expect(t.c.stats).toMatchObject({ builds: 2, failedBuilds: 1 });
  });

  it('replaces the value on invalidate, disposing the old one only after its last user released it', async () => {
    const t = cache();
    const old = await t.c.acquire();
    t.c.invalidate();
    const fresh = await t.c.acquire();
    expect(fresh.value.n).toBe(2);
    expect(t.disposed).toEqual([]);
    old.release();
    old.release();
    await tick();
    expect(t.disposed).toEqual([1]);
    fresh.release();
    expect(t.disposed).toEqual([1]);
  });

  it('ignores a late invalidation aimed at a value that was already replaced', async () => {
    const t = cache();
    const first = await t.c.acquire();
    first.release();
    t.c.invalidate(first.generation);
    const second = await t.c.acquire();
    second.release();
    t.c.invalidate(first.generation);
    expect((await t.c.acquire()).value.n).toBe(2);
  });

  it('closes everything on shutdown, once, and refuses further use with UNAVAILABLE', async () => {
    const t = cache();
    const held = await t.c.acquire();
    await Promise.all([t.c.close(), t.c.close()]);
    expect(t.disposed).toEqual([1]);
    held.release();
    await expect(t.c.acquire()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(t.disposed).toEqual([1]);
  });
});
