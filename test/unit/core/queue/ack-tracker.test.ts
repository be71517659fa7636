import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../../../core/queue/ack-tracker.ts';

describe('AckTracker', () => {
  it('commits in order as acks arrive in order', () => {
    const t = new AckTracker<string>();
    for (const o of [10n, 11n, 12n]) t.deliver(0, o, `p0@${o}`);
    expect(t.ack(0, 10n)).toEqual({ offset: 10n, item: 'p0@10' });
    expect(t.ack(0, 11n)?.offset).toBe(11n);
    expect(t.unacked).toBe(1);
  });

  it('holds the commit point at the lowest unacknowledged offset when acks arrive out of order', () => {
    const t = new AckTracker<string>();
    for (const o of [1n, 2n, 3n, 4n]) t.deliver(0, o, `p0@${o}`);
    expect(t.ack(0, 3n)).toBeUndefined();
    expect(t.ack(0, 2n)).toBeUndefined();
    expect(t.ack(0, 1n)).toEqual({ offset: 3n, item: 'p0@3' });
    expect(t.ack(0, 4n)?.offset).toBe(4n);
    expect(t.unacked).toBe(0);
  });

  it('keeps partitions independent', () => {
    const t = new AckTracker<string>();
    t.deliver(0, 5n, `p0@${5n}`);
    t.deliver(1, 7n, `p1@${7n}`);
    expect(t.ack(1, 7n)?.offset).toBe(7n);
    expect(t.unacked).toBe(1);
    expect(t.lastDelivered(0)).toBe(5n);
  });

  it('ignores acks for offsets it does not track (stale receipts, duplicates)', () => {
    const t = new AckTracker<string>();
    t.deliver(0, 1n, `p0@${1n}`);
    expect(t.ack(0, 99n)).toBeUndefined();
    expect(t.ack(3, 1n)).toBeUndefined();
    expect(t.ack(0, 1n)?.offset).toBe(1n);
    expect(t.ack(0, 1n)).toBeUndefined();
  });

  it('forgets a reset partition', () => {
    const t = new AckTracker<string>();
    t.deliver(0, 1n, `p0@${1n}`);
    t.deliver(1, 1n, `p1@${1n}`);
    t.reset(0);
    expect(t.unacked).toBe(1);
    t.reset();
    expect(t.unacked).toBe(0);
  });
});
