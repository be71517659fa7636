import { describe, expect, it } from 'vitest';
import { withCleanup } from '../../../handlers/stream/with-cleanup.ts';

async function* numbers() {
  yield 1;
  yield 2;
}

describe('withCleanup', () => {
  it('cleans up when the caller returns before the first next() (a plain generator would not)', async () => {
    let cleaned = 0;
    const it = withCleanup(numbers(), async () => void cleaned++);
    await it.return(undefined);
    expect(cleaned).toBe(1);
  });

  it('cleans up once at the natural end, and once only', async () => {
    let cleaned = 0;
    const it = withCleanup(numbers(), async () => void cleaned++);
    const seen: number[] = [];
    for await (const n of it) seen.push(n);
    await it.return(undefined);
    expect(seen).toEqual([1, 2]);
    expect(cleaned).toBe(1);
  });

  it('cleans up when the generator throws', async () => {
    let cleaned = 0;
    const failing = (async function* () {
      yield 1;
      throw new Error('boom');
    })();
    const it = withCleanup(failing, async () => void cleaned++);
    await it.next();
    await expect(it.next()).rejects.toThrow('boom');
    expect(cleaned).toBe(1);
  });
});
