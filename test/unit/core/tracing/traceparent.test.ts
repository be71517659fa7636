import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../../../../core/tracing/traceparent.ts';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const span = '00f067aa0ba902b7';

describe('traceparent (W3C Trace Context)', () => {
  it('parses version 00 and formats it back exactly', () => {
    const value = `00-${trace}-${span}-01`;
    expect(parseTraceparent(value)).toEqual({ traceId: trace, spanId: span, flags: 1 });
    expect(formatTraceparent({ traceId: trace, spanId: span, flags: 1 })).toBe(value);
    expect(formatTraceparent({ traceId: trace, spanId: span, flags: 0 })).toBe(`00-${trace}-${span}-00`);
  });

  it('accepts a later version with more fields after a dash (forward compatibility)', () => {
    expect(parseTraceparent(`01-${trace}-${span}-01-extra`)).toEqual({ traceId: trace, spanId: span, flags: 1 });
    expect(parseTraceparent(`cc-${trace}-${span}-09`)).toMatchObject({ flags: 9 });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['version ff', `ff-${trace}-${span}-01`],
    ['version 00 with a suffix', `00-${trace}-${span}-01-extra`],
    ['a later version followed by no dash', `01-${trace}-${span}-01x`],
    ['upper-case hex', `00-${trace.toUpperCase()}-${span}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${span}-01`],
    ['an all-zero span id', `00-${trace}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${trace.slice(1)}-${span}-01`],
    ['other separators', `00_${trace}_${span}_01`],
    ['non-hex flags', `00-${trace}-${span}-0g`],
    ['garbage', '00-not-a-trace-01'],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});
