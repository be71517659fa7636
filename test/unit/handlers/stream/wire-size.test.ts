import { describe, expect, it } from 'vitest';
import { servedDefinitions } from '../../../../adapters/protos/services.ts';
import type { StreamEvent } from '../../../../handlers/stream/events.ts';
import { cursorWireBytes, eventWireBytes, grpcMessageLimit, pageBudget } from '../../../../handlers/stream/wire-size.ts';

/** The serializer grpc-js runs for a Query answer: what the client receives, byte for byte. */
const method = servedDefinitions()['prism.interfaces.stream.StreamBasicInterface'] as unknown as Record<string, { responseSerialize(value: unknown): Buffer }>;
const encode = (events: StreamEvent[], nextCursor: string) => method.Query!.responseSerialize({ events, next_cursor: nextCursor }).length;

const event = (over: Partial<StreamEvent>): StreamEvent => ({
  topic: 'orders', partition: 2, offset: '41', timestamp: 1_700_000_000_000, key: Buffer.from('k'), payload: Buffer.from('v'), tags: {}, cursor: '', ...over,
});

describe('Query answer wire size', () => {
  const cases: [string, StreamEvent[], string][] = [
    ['no events, empty cursor', [], ''],
    ['proto3 defaults (partition 0, offset 0, empty key and payload)', [event({ partition: 0, offset: '0', timestamp: 0, key: Buffer.alloc(0), payload: Buffer.alloc(0) })], 'abc'],
    ['tags with multi-byte UTF-8 names and values', [event({ tags: { région: 'é'.repeat(300), 'x-trace': 'ü✓', empty: '' } })], 'c'.repeat(200)],
    ['the largest offset and a negative timestamp', [event({ offset: '9223372036854775807', timestamp: -1 })], ''],
    ['a 1 MiB payload with 60 KiB of tags, beside small events', [
      event({ payload: Buffer.alloc(1 << 20, 1), tags: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`tag-${i}`, 'x'.repeat(1_000)])) }),
      event({ partition: 300, offset: '123456789012' }),
    ], 'q'.repeat(70_000)],
  ];

  it.each(cases)('counts exactly what grpc-js sends: %s', (_name, events, cursor) => {
    const counted = events.reduce((sum, e) => sum + eventWireBytes(e), 0) + cursorWireBytes(cursor);
    expect(counted).toBe(encode(events, cursor));
  });

  it('closes pages below the gRPC message limit with room for a large record', () => {
    expect(grpcMessageLimit).toBe(4 * 1024 * 1024);
    expect(pageBudget).toBeLessThan(grpcMessageLimit);
  });
});
