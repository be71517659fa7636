import { describe, expect, it } from 'vitest';
import { contiguousEnd } from '../../../handlers/ack-offsets.ts';
import { encodeReceipt, parseReceipt, type FunctionReceipt } from '../../../handlers/queue/function-receipts.ts';

const r = (from: number, offset: number): FunctionReceipt => ({ group: 'g', topic: 't', partition: 0, from: BigInt(from), offset: BigInt(offset) });

describe('function receipts', () => {
  it('round-trip group, topic, partition, from and offset', () => {
    const receipt = r(3, 7);
    expect(encodeReceipt(receipt)).toBe('fn2:g:t:0:3:7');
    expect(parseReceipt('fn2:g:t:0:3:7')).toEqual(receipt);
  });

  it('read a version 1 receipt as vouching for its own message only, and refuse a from past the offset', () => {
    expect(parseReceipt('fn1:g:t:0:7')).toEqual(r(7, 7));
    expect(parseReceipt('fn2:g:t:0:8:7')).toBeUndefined();
    expect(parseReceipt('fn2:g:t:0:7')).toBeUndefined();
  });
});

describe('the commit position of function-mode acks', () => {
  it('moves over a contiguous run from the committed offset, in any order of receipts', () => {
    expect(contiguousEnd(0n, [r(2, 2), r(0, 0), r(1, 1)])).toBe(3n);
  });

  it('stops at the first message no receipt vouches for', () => {
    expect(contiguousEnd(0n, [r(0, 0), r(2, 2), r(3, 3)])).toBe(1n);
    expect(contiguousEnd(0n, [r(9, 9)])).toBe(0n);
  });

  it('crosses gaps a receipt vouches for (compacted records, transaction markers), and never more', () => {
    // Offsets 1–4 are no messages: the member stood at 1 before the record at 5.
    expect(contiguousEnd(0n, [r(0, 0), r(1, 5)])).toBe(6n);
    expect(contiguousEnd(3n, [r(1, 5)])).toBe(6n);
    expect(contiguousEnd(0n, [r(1, 5)])).toBe(0n);
  });

  it('ignores receipts below the position (already committed)', () => {
    expect(contiguousEnd(5n, [r(0, 0), r(1, 1)])).toBe(5n);
  });
});
