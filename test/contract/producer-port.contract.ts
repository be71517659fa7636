import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPluginError } from '../../core/errors.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { ReaderPort } from '../../core/kafka/reader-port.ts';
import type { ConsumedRecord, ProduceAck, ProduceOutcome, RecordToProduce } from '../../core/kafka/records.ts';

export interface ProducerFixture {
  producer: ProducerPort;
  /** Creates the topics and reads back what the producer wrote (the same cluster the producer writes to). */
  reader: ReaderPort;
  close(): Promise<void>;
}

const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const base = Date.UTC(2026, 0, 1);

function acks(outcomes: ProduceOutcome[]): ProduceAck[] {
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`record ${i} failed: ${o.error.message}`);
    return o.ack;
  });
}

/** The records of one partition from `from` to the log's end, read through the reader port. */
async function readBack(reader: ReaderPort, topic: string, partition: number, from: string): Promise<ConsumedRecord[]> {
  const end = Number((await reader.offsets(topic, 'latest', [partition])).get(partition));
  const fetcher = reader.openFetcher(topic);
  const got: ConsumedRecord[] = [];
  try {
    for (let at = from, rounds = 0; Number(at) < end && rounds < 20; rounds++) {
      for (const answer of await fetcher.fetch(new Map([[partition, at]]), { maxWaitMs: 500, maxBytesPerPartition: 1 << 20 })) {
        got.push(...answer.records);
        at = answer.nextOffset;
      }
    }
  } finally {
    await fetcher.close();
  }
  return got;
}

/**
 * What every ProducerPort owes publish, append and the dead-letter writer: one answer per record, in order, only
 * once the record is stored, with where it was stored; failures of single records as outcomes, not rejections. The
 * fake runs it in the unit project, the real adapter against the real broker in the integration project.
 */
export function producerPortContract(name: string, make: () => ProducerFixture) {
  describe(`ProducerPort contract: ${name}`, () => {
    let f: ProducerFixture;
    const newTopic = async (partitions = 3) => {
      const topic = `contract-producer-${randomUUID()}`;
      await f.reader.createTopic({ topic, partitions, replicationFactor: 1, configs: {} });
      return topic;
    };
    const record = (topic: string, value: string, more: Partial<RecordToProduce> = {}): RecordToProduce => ({ topic, value: Buffer.from(value), headers: [], ...more });
    beforeAll(() => {
      f = make();
    });
    afterAll(() => f.close());

    it('answers one outcome per record in input order, with the partition and offset it was stored at', async () => {
      const topic = await newTopic();
      const partitions = [0, 1, 0, 2, 1, 0];
      const records = partitions.map((partition, i) => record(topic, `v${i}`, {
        partition, key: Buffer.from(`k${i}`), headers: [['tag', Buffer.from(`t${i}`)]], timestamp: base + i,
      }));
      const got = acks(await f.producer.produce(records, {}));
      expect(got.map((a) => [a.topic, a.partition, a.offset, a.timestamp])).toEqual([
        [topic, 0, '0', base], [topic, 1, '0', base + 1], [topic, 0, '1', base + 2], [topic, 2, '0', base + 3], [topic, 1, '1', base + 4], [topic, 0, '2', base + 5],
      ]);
      // Each answer names where its own record is.
      const p0 = await readBack(f.reader, topic, 0, '0');
      expect(p0.map((r) => r.value.toString())).toEqual(['v0', 'v2', 'v5']);
      expect(p0[1]).toMatchObject({ offset: '1', timestamp: base + 2, key: Buffer.from('k2'), headers: [['tag', Buffer.from('t2')]] });
    });

    it('stores records without a partition in one of the topic\'s partitions, records with one key in one partition', async () => {
      const topic = await newTopic();
      const keyed = acks(await f.producer.produce([1, 2, 3].map((i) => record(topic, `a${i}`, { key: Buffer.from('same-key') })), {}));
      expect(new Set(keyed.map((a) => a.partition)).size).toBe(1);
      const keyless = acks(await f.producer.produce([1, 2, 3, 4].map((i) => record(topic, `b${i}`)), {}));
      for (const a of [...keyed, ...keyless]) expect([0, 1, 2]).toContain(a.partition);
      const [again] = acks(await f.producer.produce([record(topic, 'c', { key: Buffer.from('same-key') })], {}));
      expect(again!.partition).toBe(keyed[0]!.partition);
    });

    it('gives increasing offsets within a partition, across sequential and concurrent calls', async () => {
      const topic = await newTopic(1);
      const first = acks(await f.producer.produce([record(topic, 'a'), record(topic, 'b')], {}));
      const together = await Promise.all([0, 1, 2, 3, 4].map((i) => f.producer.produce([record(topic, `c${i}`, { partition: 0 }), record(topic, `d${i}`, { partition: 0 })], {})));
      const later = acks(await f.producer.produce([record(topic, 'e', { partition: 0 })], {}));
      const offsets = (list: ProduceAck[]) => list.map((a) => Number(a.offset));
      expect(offsets(first)).toEqual([0, 1]);
      for (const call of together.map(acks)) expect(offsets(call)[1]).toBe(offsets(call)[0]! + 1);
      expect(new Set(together.flatMap((c) => offsets(acks(c))))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
      expect(offsets(later)).toEqual([12]);
    });

    it('answers a record to a partition the topic does not have with {ok:false} INVALID_ARGUMENT, and stores the others', async () => {
      const topic = await newTopic(2);
      const outcomes = await f.producer.produce([record(topic, 'x', { partition: 0 }), record(topic, 'y', { partition: 9 }), record(topic, 'z', { partition: 1 })], {});
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      const failed = outcomes[1]!;
      expect(!failed.ok && isPluginError(failed.error) && failed.error.code).toBe('INVALID_ARGUMENT');
      expect(await f.reader.offsets(topic, 'latest')).toEqual(new Map([[0, '1'], [1, '1']]));
    });

    // The port's doc says an aborted call rejects; the real producer answers each record CANCELLED instead.
    it('answers every record of a call whose signal already aborted with {ok:false} CANCELLED, and stores none', async () => {
      const topic = await newTopic(1);
      const abort = new AbortController();
      abort.abort();
      const outcomes = await f.producer.produce([record(topic, 'x'), record(topic, 'y')], { signal: abort.signal });
      expect(outcomes.map((o) => (o.ok ? 'ok' : codeOf(o.error)))).toEqual(['CANCELLED', 'CANCELLED']);
      expect(await f.reader.offsets(topic, 'latest')).toEqual(new Map([[0, '0']]));
      expect(f.producer.pending()).toBe(0);
    });

    it('counts records handed over as pending until they are answered', async () => {
      const topic = await newTopic(1);
      const before = f.producer.pending();
      const answer = f.producer.produce([record(topic, 'x'), record(topic, 'y'), record(topic, 'z')], {});
      expect(f.producer.pending()).toBe(before + 3);
      expect(acks(await answer)).toHaveLength(3);
      expect(f.producer.pending()).toBe(0);
    });

    it('closes once every record handed over is answered, idempotently, and refuses work afterwards with UNAVAILABLE', async () => {
      const topic = await newTopic(1);
      const own = make();
      let answered = false;
      const answer = own.producer.produce([record(topic, 'last-1'), record(topic, 'last-2')], {}).then((o) => {
        answered = true;
        return o;
      });
      const closes = [own.producer.close(), own.producer.close()];
      await Promise.all(closes);
      expect(answered).toBe(true);
      expect(acks(await answer).map((a) => a.offset)).toEqual(['0', '1']);
      expect(own.producer.pending()).toBe(0);
      await own.producer.close();
      const err: unknown = await own.producer.produce([record(topic, 'late')], {}).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('UNAVAILABLE');
      expect(await f.reader.offsets(topic, 'latest')).toEqual(new Map([[0, '2']]));
      await own.close();
    });
  });
}
