import { describe, expect, it } from 'vitest';
import type { RecordHeaders } from '../../../../core/kafka/records.ts';
import { stampHeaders, traceHeadersOf } from '../../../../core/tracing/record-headers.ts';

const ours = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=ours' };
const text = (headers: RecordHeaders) => headers.map(([k, v]) => [k, v.toString()]);

describe('trace context in record headers', () => {
  it('adds traceparent and tracestate after the record\'s own headers', () => {
    const headers: RecordHeaders = [['prism-message-id', Buffer.from('m1')]];
    expect(stampHeaders(headers, ours)).toBe(true);
    expect(text(headers)).toEqual([['prism-message-id', 'm1'], ['traceparent', ours.traceparent], ['tracestate', 'vendor=ours']]);
  });

  it.each(['traceparent', 'Traceparent', 'TRACEPARENT'])('never overwrites nor duplicates a caller\'s %s header', (name) => {
    const headers: RecordHeaders = [[name, Buffer.from('00-caller')]];
    expect(stampHeaders(headers, ours)).toBe(false);
    expect(text(headers)).toEqual([[name, '00-caller']]);
  });

  it('keeps a caller\'s tracestate and writes no second one', () => {
    const headers: RecordHeaders = [['tracestate', Buffer.from('vendor=theirs')]];
    stampHeaders(headers, ours);
    expect(text(headers)).toEqual([['tracestate', 'vendor=theirs'], ['traceparent', ours.traceparent]]);
  });

  it('writes no tracestate when the call has none', () => {
    const headers: RecordHeaders = [];
    stampHeaders(headers, { traceparent: ours.traceparent });
    expect(text(headers)).toEqual([['traceparent', ours.traceparent]]);
  });

  it('reads the context a record carries, or none', () => {
    expect(traceHeadersOf([['a', Buffer.from('1')], ['traceparent', Buffer.from(ours.traceparent)], ['tracestate', Buffer.from('x=1')]])).toEqual({ traceparent: ours.traceparent, tracestate: 'x=1' });
    expect(traceHeadersOf([['tracestate', Buffer.from('x=1')]])).toBeUndefined();
    expect(traceHeadersOf([['traceparent', Buffer.alloc(129, 'a')]])).toBeUndefined();
  });
});
