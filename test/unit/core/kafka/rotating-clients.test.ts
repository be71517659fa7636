import { describe, expect, it } from 'vitest';
import type { KafkaPort } from '../../../../core/kafka/port.ts';
import type { Fetcher, ReaderPort } from '../../../../core/kafka/reader-port.ts';
import { RotatingCluster, RotatingReader } from '../../../../core/kafka/rotating-clients.ts';

const info = { clusterId: 'c', controllerId: 1, brokers: [] };

describe('RotatingCluster', () => {
  it('sends new pings to a new client and closes the old one only after its ping in flight answered', async () => {
    const made: { n: number; closed: boolean; answer?: () => void }[] = [];
    const cluster = new RotatingCluster(() => {
      const me: { n: number; closed: boolean; answer?: () => void } = { n: made.length + 1, closed: false };
      made.push(me);
      const port: KafkaPort = {
        ping: () => new Promise((resolve) => { me.answer = () => resolve({ ...info, clusterId: `c${me.n}` }); }),
        close: async () => { me.closed = true; },
      };
      return port;
    });
    const inFlight = cluster.ping({ timeoutMs: 1_000 });
    cluster.rotate();
    const next = cluster.ping({ timeoutMs: 1_000 });
    expect(made).toHaveLength(2);
    expect(made[0]!.closed).toBe(false);
    made[0]!.answer!();
    await expect(inFlight).resolves.toMatchObject({ clusterId: 'c1' });
    await Promise.resolve();
    expect(made[0]!.closed).toBe(true);
    made[1]!.answer!();
    await expect(next).resolves.toMatchObject({ clusterId: 'c2' });
    await cluster.close();
    expect(made[1]!.closed).toBe(true);
  });

  it('builds nothing before the first call, and a rotation before it is a no-op', async () => {
    let built = 0;
    const cluster = new RotatingCluster(() => { built++; return { ping: async () => info, close: async () => undefined }; });
    cluster.rotate();
    expect(built).toBe(0);
    await cluster.ping({ timeoutMs: 1 });
    expect(built).toBe(1);
    await cluster.close();
  });
});

describe('RotatingReader', () => {
  it('keeps a fetcher opened before a rotation on the old reader, which closes when that fetcher does', async () => {
    const readers: { closed: boolean; fetchers: number }[] = [];
    const reader = new RotatingReader(() => {
      const me = { closed: false, fetchers: 0 };
      readers.push(me);
      const fetcher = (): Fetcher => ({ fetch: async () => [], close: async () => undefined });
      const r: ReaderPort = {
        partitionCount: async () => readers.indexOf(me) + 1,
        offsets: async () => new Map(),
        openFetcher: () => { me.fetchers++; return fetcher(); },
        createTopic: async (s) => ({ topic: s.topic, partitions: 1, replicationFactor: 1, configs: {} }),
        describeTopic: async () => undefined,
        close: async () => { me.closed = true; },
      };
      return r;
    });
    const tail = reader.openFetcher('t');
    reader.rotate();
    expect(await reader.partitionCount('t')).toBe(2);
    expect(readers[0]!.closed).toBe(false);
    await expect(tail.fetch(new Map(), { maxWaitMs: 1, maxBytesPerPartition: 1 })).resolves.toEqual([]);
    await tail.close();
    await tail.close();
    await Promise.resolve();
    expect(readers[0]!.closed).toBe(true);
    expect(readers[1]!.closed).toBe(false);
    await reader.close();
    expect(readers[1]!.closed).toBe(true);
  });
});
