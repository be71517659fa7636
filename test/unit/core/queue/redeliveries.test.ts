import { describe, expect, it } from 'vitest';
import { Redeliveries, type Redeliverable } from '../../../../core/queue/redeliveries.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redeliveries', () => {
  it('makes a message ready after its backoff, in the order the backoffs end, and says so', async () => {
    let told = 0;
    const r = new Redeliveries<Redeliverable & { id: string }>(() => told++);
    const a = { id: 'a', requeued: false };
    const b = { id: 'b', requeued: false };
    r.schedule(a, 30);
    r.schedule(b, 5);
    expect(a.requeued && b.requeued).toBe(true);
    expect(r.next()).toBeUndefined();
    await sleep(50);
    expect([r.next()?.id, r.next()?.id, r.next()]).toEqual(['b', 'a', undefined]);
    expect(told).toBe(2);
  });

  it('takes a redelivery back, whether it still waits out its backoff or is already ready', async () => {
    const r = new Redeliveries<Redeliverable>(() => undefined);
    const waiting: Redeliverable = { requeued: false };
    const ready: Redeliverable = { requeued: false };
    r.schedule(waiting, 20);
    r.schedule(ready, 0);
    await sleep(5);
    r.cancel(waiting);
    r.cancel(ready);
    await sleep(30);
    expect(r.next()).toBeUndefined();
    expect([waiting.requeued, waiting.timer, ready.requeued]).toEqual([false, undefined, false]);
  });

  it('stops every timer when cleared', async () => {
    let told = 0;
    const r = new Redeliveries<Redeliverable>(() => told++);
    r.schedule({ requeued: false }, 5);
    r.clear();
    await sleep(20);
    expect([told, r.next()]).toEqual([0, undefined]);
  });
});
