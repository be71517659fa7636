import { describe, expect, it } from 'vitest';
import { Ledger } from '../../faults/support/ledger.ts';

// The fault ledger's books, on hand-made facts: it must see a skip — a message delivered, never acked nor
// dead-lettered, yet passed by the group's committed offset — and count it as lost, not as delivered.

const at = (offset: number) => ({ topic: 't', partition: 0, offset: BigInt(offset) });

describe('fault ledger', () => {
  it('counts a delivered message that was never acked but that the committed offset passed as skipped and lost', () => {
    const ledger = new Ledger('unit');
    for (const [id, offset] of [['a', 0], ['b', 1], ['c', 2]] as const) {
      ledger.send(id);
      ledger.ack(id, at(offset));
      ledger.deliver(id);
    }
    ledger.consumerAck('a');
    ledger.consumerAck('c');
    ledger.audit([{ topic: 't', partition: 0, committed: 3n }], []);
    expect(ledger.skipped()).toEqual(['b']);
    expect(ledger.report()).toMatchObject({ delivered: 3, skipped: 1, lost: 1 });
  });

  it('does not call a message skipped when it is on the dead-letter topic, or not yet passed by the committed offset', () => {
    const ledger = new Ledger('unit');
    for (const [id, offset] of [['a', 0], ['b', 1]] as const) {
      ledger.send(id);
      ledger.ack(id, at(offset));
      ledger.deliver(id);
    }
    ledger.audit([{ topic: 't', partition: 0, committed: 1n }], ['a']);
    expect(ledger.report()).toMatchObject({ skipped: 0, lost: 0 });
  });
});
