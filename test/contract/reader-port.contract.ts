import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPluginError } from '../../core/errors.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { Fetcher, PartitionRecords, ReaderPort } from '../../core/kafka/reader-port.ts';

export interface ReaderFixture {
  reader: ReaderPort;
  /** Writes the records the reader reads (the real producer against the real broker). */
  producer: ProducerPort;
  close(): Promise<void>;
}

const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const base = Date.UTC(2026, 0, 1);

/** Fetches until every partition reached `end` (or `rounds` calls), collecting what arrives. */
async function drain(fetcher: Fetcher, from: Map<number, string>, end: number, rounds = 20) {
  const positions = new Map(from);
  const got: PartitionRecords['records'] = [];
  let calls = 0;
  while ([...positions.values()].some((o) => Number(o) < end) && calls < rounds) {
    calls++;
    const wanted = new Map([...positions].filter(([, o]) => Number(o) < end));
    for (const answer of await fetcher.fetch(wanted, { maxWaitMs: 500, maxBytesPerPartition: 1 << 20 })) {
      got.push(...answer.records);
      positions.set(answer.partition, answer.nextOffset);
    }
  }
  return { got, calls, positions };
}

/**
 * What every ReaderPort owes the tail, query and create-stream handlers. The fake runs it in the unit project, the
 * real adapter against the real broker in the integration project.
 */
export function readerPortContract(name: string, make: () => ReaderFixture) {
  describe(`ReaderPort contract: ${name}`, () => {
    let f: ReaderFixture;
    const topic = `contract-reader-${randomUUID()}`;
    beforeAll(async () => {
      f = make();
      await f.reader.createTopic({ topic, partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } });
      // Five records per partition, stamped base, base+10, … base+40.
      const records = [0, 1, 2].flatMap((partition) => [0, 1, 2, 3, 4].map((i) => ({
        topic, partition, key: Buffer.from(`k${partition}-${i}`), value: Buffer.from(`v${partition}-${i}`), headers: [['tag', Buffer.from(`t${i}`)]] as [string, Buffer][], timestamp: base + i * 10,
      })));
      const outcomes = await f.producer.produce(records, {});
      expect(outcomes.every((o) => o.ok)).toBe(true);
    });
    afterAll(() => f.close());

    it('reports a missing topic as NOT_FOUND and never creates it', async () => {
      const missing = `contract-missing-${randomUUID()}`;
      expect(codeOf(await f.reader.partitionCount(missing).catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(codeOf(await f.reader.offsets(missing, 'latest').catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(await f.reader.describeTopic(missing, ['retention.ms'])).toBeUndefined();
    });

    it('creates a topic once, then describes it and refuses to create it again with ALREADY_EXISTS', async () => {
      expect(await f.reader.describeTopic(topic, ['retention.ms'])).toEqual({ topic, partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } });
      expect(await f.reader.partitionCount(topic, { fresh: true })).toBe(3);
      const again: unknown = await f.reader.createTopic({ topic, partitions: 3, configs: {} }).catch((e: unknown) => e);
      expect(codeOf(again)).toBe('ALREADY_EXISTS');
    });

    it('lists earliest, latest and by-time offsets for every partition', async () => {
      const all = (o: string) => new Map([[0, o], [1, o], [2, o]]);
      expect(await f.reader.offsets(topic, 'earliest')).toEqual(all('0'));
      expect(await f.reader.offsets(topic, 'latest')).toEqual(all('5'));
      expect(await f.reader.offsets(topic, { timestamp: base + 20 })).toEqual(all('2'));
      expect(await f.reader.offsets(topic, { timestamp: base + 11 })).toEqual(all('2'));
      expect(await f.reader.offsets(topic, { timestamp: base + 1_000 })).toEqual(all('5'));
      expect(await f.reader.offsets(topic, 'latest', [1])).toEqual(new Map([[1, '5']]));
    });

    it('fetches records from the requested offsets in offset order, with key, tags and timestamp, in few round trips', async () => {
      const fetcher = f.reader.openFetcher(topic);
      try {
        const { got, calls, positions } = await drain(fetcher, new Map([[0, '0'], [1, '2'], [2, '4']]), 5);
        expect(positions).toEqual(new Map([[0, '5'], [1, '5'], [2, '5']]));
        expect(calls).toBeLessThanOrEqual(3);
        const p1 = got.filter((r) => r.partition === 1);
        expect(p1.map((r) => r.offset)).toEqual(['2', '3', '4']);
        expect(p1[0]).toMatchObject({ topic, partition: 1, offset: '2', timestamp: base + 20, key: Buffer.from('k1-2'), value: Buffer.from('v1-2'), headers: [['tag', Buffer.from('t2')]] });
        expect(got.filter((r) => r.partition === 0)).toHaveLength(5);
      } finally {
        await fetcher.close();
      }
    });

    it('waits up to maxWaitMs when nothing is new, and answers early when a record arrives', async () => {
      const fetcher = f.reader.openFetcher(topic);
      try {
        let started = Date.now();
        expect(await fetcher.fetch(new Map([[0, '5']]), { maxWaitMs: 600, maxBytesPerPartition: 1 << 16 })).toEqual([]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(400);
        started = Date.now();
        const waiting = fetcher.fetch(new Map([[2, '5']]), { maxWaitMs: 10_000, maxBytesPerPartition: 1 << 16 });
        setTimeout(() => void f.producer.produce([{ topic, partition: 2, value: Buffer.from('late'), headers: [], timestamp: base + 50 }], {}), 200);
        const answer = await waiting;
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(answer.flatMap((a) => a.records).map((r) => r.value.toString())).toEqual(['late']);
      } finally {
        await fetcher.close();
      }
    });

    it('rejects a waiting fetch with CANCELLED when its signal fires', async () => {
      const fetcher = f.reader.openFetcher(topic);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      const started = Date.now();
      const err: unknown = await fetcher.fetch(new Map([[1, '5']]), { maxWaitMs: 10_000, maxBytesPerPartition: 1 << 16, signal: abort.signal }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('CANCELLED');
      expect(Date.now() - started).toBeLessThan(2_000);
      await fetcher.close();
    });

    it('refuses an offset past the end of the log with FAILED_PRECONDITION', async () => {
      const fetcher = f.reader.openFetcher(topic);
      const err: unknown = await fetcher.fetch(new Map([[0, '1000']]), { maxWaitMs: 100, maxBytesPerPartition: 1 << 16 }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('FAILED_PRECONDITION');
      await fetcher.close();
    });

    it('closes idempotently and refuses work afterwards with UNAVAILABLE', async () => {
      const own = make();
      await own.reader.partitionCount(topic);
      await Promise.all([own.reader.close(), own.reader.close()]);
      expect(codeOf(await own.reader.partitionCount(topic).catch((e: unknown) => e))).toBe('UNAVAILABLE');
      await own.close();
    });
  });
}
