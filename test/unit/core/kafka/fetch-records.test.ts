import { describe, expect, it } from 'vitest';
import { toPartitionRecords, type FetchResponse } from '../../../../core/kafka/fetch-records.ts';

type Batch = NonNullable<FetchResponse['responses'][number]['partitions'][number]['records']>[number];

const batch = (firstOffset: bigint, attributes: number, records: { delta: number; ts: bigint; key?: string | null; value?: string | null }[], maxTimestamp = 0n): Batch => ({
  firstOffset, length: 100, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes, lastOffsetDelta: records.length - 1,
  firstTimestamp: 1_000n, maxTimestamp, producerId: -1n, producerEpoch: 0, firstSequence: 0,
  records: records.map((r) => ({
    length: 0, attributes: 0, timestampDelta: r.ts, offsetDelta: r.delta,
    key: r.key == null ? null : Buffer.from(r.key), value: r.value == null ? null : Buffer.from(r.value),
    headers: r.key === 'h' ? [[Buffer.from('tag'), Buffer.from('x')]] : [],
  })),
});

const response = (batches: Batch[]): FetchResponse => ({
  throttleTimeMs: 0, errorCode: 0, sessionId: 0,
  responses: [{ topicId: 'id', partitions: [{ partitionIndex: 1, errorCode: 0, highWatermark: 20n, lastStableOffset: 20n, logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records: batches }] }],
});

describe('toPartitionRecords', () => {
  it('drops records before the requested offset, keeps key, value, headers and per-record time', () => {
    const [p] = toPartitionRecords('t', response([batch(10n, 0, [{ delta: 0, ts: 0n }, { delta: 1, ts: 5n, key: 'h', value: 'v' }, { delta: 2, ts: 7n, value: null }])]), new Map([[1, 11n]]));
    expect(p!.records.map((r) => r.offset)).toEqual(['11', '12']);
    expect(p!.records[0]).toEqual({ topic: 't', partition: 1, offset: '11', timestamp: 1_005, key: Buffer.from('h'), value: Buffer.from('v'), headers: [['tag', Buffer.from('x')]] });
    expect(p!.records[1]).toMatchObject({ key: undefined, value: Buffer.alloc(0), headers: [] });
    expect(p!.nextOffset).toBe('13');
    expect(p!.bytes).toBe(112);
  });

  it('leaves transaction markers out but moves the next offset past them', () => {
    const [p] = toPartitionRecords('t', response([batch(0n, 0, [{ delta: 0, ts: 0n }]), batch(1n, 0x20, [{ delta: 0, ts: 0n }])]), new Map([[1, 0n]]));
    expect(p!.records.map((r) => r.offset)).toEqual(['0']);
    expect(p!.nextOffset).toBe('2');
  });

  it('stamps every record of a LogAppendTime batch with the broker time', () => {
    const [p] = toPartitionRecords('t', response([batch(0n, 0x08, [{ delta: 0, ts: 3n }, { delta: 1, ts: 4n }], 9_999n)]), new Map([[1, 0n]]));
    expect(p!.records.map((r) => r.timestamp)).toEqual([9_999, 9_999]);
  });

  it('answers a partition with no records with its requested offset, and ignores partitions not asked for', () => {
    expect(toPartitionRecords('t', response([]), new Map([[1, 4n]]))).toEqual([{ partition: 1, records: [], nextOffset: '4', bytes: 0 }]);
    expect(toPartitionRecords('t', response([]), new Map([[0, 4n]]))).toEqual([]);
  });
});
