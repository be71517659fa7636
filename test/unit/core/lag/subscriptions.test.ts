import { describe, expect, it } from 'vitest';
import { OpenSubscriptions, type WatchedSubscription } from '../../../../core/lag/subscriptions.ts';

const sub = (id: string, group: string, topic: string, unacked = 0): WatchedSubscription => ({ options: { id, group, topic }, unacked });

function setup() {
  const open = new Set<WatchedSubscription>();
  let added = 0;
  const subs = new OpenSubscriptions({ isOpen: (s) => open.has(s), onAdd: () => added++ });
  const add = (s: WatchedSubscription) => {
    open.add(s);
    subs.add(s);
    return s;
  };
  return { subs, open, add, added: () => added };
}

describe('OpenSubscriptions', () => {
  it('lists distinct (group, topic) pairs and unacked messages per topic', () => {
    const { subs, add, added } = setup();
    add(sub('a~1', 'g1', 't1', 2));
    add(sub('b~1', 'g1', 't1', 3));
    add(sub('c~1', 'g2', 't1', 0));
    add(sub('d~1', 'g2', 't2', 1));
    expect(subs.pairs()).toEqual([{ group: 'g1', topic: 't1' }, { group: 'g2', topic: 't1' }, { group: 'g2', topic: 't2' }]);
    expect(subs.unackedByTopic()).toEqual(new Map([['t1', 5], ['t2', 1]]));
    expect(added()).toBe(4);
  });

  it('forgets subscriptions the session registry no longer holds', () => {
    const { subs, add, open } = setup();
    const a = add(sub('a~1', 'g1', 't1', 2));
    add(sub('b~1', 'g2', 't2', 1));
    open.delete(a);
    expect(subs.pairs()).toEqual([{ group: 'g2', topic: 't2' }]);
    expect(subs.unackedByTopic()).toEqual(new Map([['t2', 1]]));
    expect(subs.list()).toHaveLength(1);
  });
});
