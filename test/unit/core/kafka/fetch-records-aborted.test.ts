import { describe, expect, it } from 'vitest';
import { toPartitionRecords, type FetchResponse } from '../../../../core/kafka/fetch-records.ts';

type Partition = FetchResponse['responses'][number]['partitions'][number];
type Batch = NonNullable<Partition['records']>[number];

/** Record batch attributes (Kafka protocol): transactional, control. */
const TXN = 0x10;
const CONTROL = 0x20;

/** A batch of `count` one-byte records from `producerId`, starting at `firstOffset`. */
const data = (firstOffset: bigint, count: number, producerId: bigint, transactional = true): Batch => ({
  firstOffset, length: 100, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes: transactional ? TXN : 0,
  lastOffsetDelta: count - 1, firstTimestamp: 1_000n, maxTimestamp: 0n, producerId, producerEpoch: 0, firstSequence: 0,
  records: Array.from({ length: count }, (_, i) => ({ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: i, key: null, value: Buffer.from('v'), headers: [] })),
});

/** A transaction marker at `offset`: control record key = version 0, type 0 (ABORT) or 1 (COMMIT). */
const marker = (offset: bigint, producerId: bigint, type: 'abort' | 'commit'): Batch => {
  const key = Buffer.alloc(4);
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2);
  return {
    ...data(offset, 1, producerId),
    attributes: TXN | CONTROL,
    records: [{ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: 0, key, value: Buffer.alloc(6), headers: [] }],
  };
};

const response = (batches: Batch[], aborted: { producerId: bigint; firstOffset: bigint }[] | null): FetchResponse => ({
  throttleTimeMs: 0, errorCode: 0, sessionId: 0,
  responses: [{ topicId: 'id', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 100n, lastStableOffset: 100n, logStartOffset: 0n, abortedTransactions: aborted, preferredReadReplica: -1, records: batches }] }],
});

const read = (batches: Batch[], aborted: { producerId: bigint; firstOffset: bigint }[] | null, from = 0n) => {
  const [p] = toPartitionRecords('t', response(batches, aborted), new Map([[0, from]]));
  return { offsets: p!.records.map((r) => Number(r.offset)), next: p!.nextOffset };
};

describe('toPartitionRecords under read_committed', () => {
  it('leaves out an aborted transaction whose abort marker is not in this answer', () => {
    // Producer 7 aborts 0–5 (marker later, in another fetch); producer 8 writes 6–7 outside any transaction.
    const got = read([data(0n, 3, 7n), data(3n, 3, 7n), data(6n, 2, 8n, false)], [{ producerId: 7n, firstOffset: 0n }]);
    expect(got).toEqual({ offsets: [6, 7], next: '8' });
  });

  it('leaves out the rest of an aborted transaction when the fetch starts inside it, up to its marker', () => {
    const got = read([data(3n, 3, 7n), marker(6n, 7n, 'abort'), data(7n, 2, 7n)], [{ producerId: 7n, firstOffset: 0n }], 4n);
    expect(got).toEqual({ offsets: [7, 8], next: '9' });
  });

  it('keeps a committed transaction between two aborted ones of the same producer', () => {
    const batches = [
      data(0n, 2, 7n), marker(2n, 7n, 'abort'),
      data(3n, 2, 7n), marker(5n, 7n, 'commit'),
      data(6n, 2, 7n), marker(8n, 7n, 'abort'),
      data(9n, 1, 7n),
    ];
    const got = read(batches, [{ producerId: 7n, firstOffset: 0n }, { producerId: 7n, firstOffset: 6n }]);
    expect(got).toEqual({ offsets: [3, 4, 9], next: '10' });
  });

  it('keeps a producer\'s batches before its aborted transaction and other producers\' interleaved ones', () => {
    const batches = [data(0n, 2, 7n), marker(2n, 7n, 'commit'), data(3n, 1, 7n), data(4n, 1, 9n), data(5n, 1, 7n), marker(6n, 9n, 'commit')];
    const got = read(batches, [{ producerId: 7n, firstOffset: 3n }]);
    expect(got).toEqual({ offsets: [0, 1, 4], next: '7' });
  });

  it('keeps every record when the broker lists no aborted transaction (read_uncommitted, or none)', () => {
    expect(read([data(0n, 2, 7n), marker(2n, 7n, 'abort')], null)).toEqual({ offsets: [0, 1], next: '3' });
    expect(read([data(0n, 2, 7n), marker(2n, 7n, 'commit')], [])).toEqual({ offsets: [0, 1], next: '3' });
  });
});
