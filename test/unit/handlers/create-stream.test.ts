import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../../core/errors.ts';
import type { ReaderPort } from '../../../core/kafka/reader-port.ts';
import { createStream } from '../../../handlers/create-stream.ts';
import { testContext } from '../../support/context.ts';
import { FakeReader } from '../../support/fake-reader.ts';

const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const fail = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => e);
const request = { topic: 'orders', partitions: 6, replication_factor: 1, retention_ms: '86400000' };

describe('createStream handler', () => {
  it('creates a topic with the requested partitions, replication factor and retention', async () => {
    const reader = new FakeReader();
    expect(await createStream({ reader }, request, testContext())).toEqual({ topic: 'orders', created: true, partitions: 6, replication_factor: 1, retention_ms: '86400000' });
    expect(await reader.describeTopic('orders', ['retention.ms'])).toMatchObject({ partitions: 6, configs: { 'retention.ms': '86400000' } });
  });

  it('succeeds without change when the stream exists with the same settings, or when settings are left to the broker', async () => {
    const reader = new FakeReader();
    await createStream({ reader }, request, testContext());
    expect(await createStream({ reader }, request, testContext())).toMatchObject({ created: false, partitions: 6 });
    expect(await createStream({ reader }, { topic: 'orders' }, testContext())).toMatchObject({ created: false, partitions: 6, retention_ms: '86400000' });
  });

  it('refuses with FAILED_PRECONDITION, naming each difference, when the stream exists with other settings', async () => {
    const reader = new FakeReader();
    await createStream({ reader }, request, testContext());
    const err = await fail(createStream({ reader }, { ...request, partitions: 3, retention_ms: '-1' }, testContext()));
    expect(codeOf(err)).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toBe('stream orders already exists with different settings: partitions 6 (requested 3), retention_ms 86400000 (requested -1)');
  });

  it('judges what exists when another caller created the stream first', async () => {
    const reader = new FakeReader();
    let looks = 0;
    // The first look sees nothing; by the time we create, the other caller has.
    const racing: ReaderPort = {
      partitionCount: (t, o) => reader.partitionCount(t, o),
      offsets: (t, at, p) => reader.offsets(t, at, p),
      openFetcher: (t) => reader.openFetcher(t),
      createTopic: (spec) => reader.createTopic(spec),
      describeTopic: (t, keys) => (looks++ === 0 ? Promise.resolve(undefined) : reader.describeTopic(t, keys)),
      close: () => reader.close(),
    };
    await reader.createTopic({ topic: 'orders', partitions: 6, replicationFactor: 1, configs: { 'retention.ms': '86400000' } });
    expect(await createStream({ reader: racing }, request, testContext())).toMatchObject({ created: false });
  });

  it.each([
    ['partitions -1', { topic: 'orders', partitions: -1 }, 'partitions: expected partitions: a count from 1 to 10000 (0 for the broker default), got -1'],
    ['retention_ms -2', { topic: 'orders', retention_ms: '-2' }, 'retention_ms: expected retention_ms: milliseconds, -1 to keep forever, 0 for the broker default, got "-2"'],
    ['a bad topic', { topic: 'a b' }, 'topic: expected a topic name'],
  ])('refuses %s with INVALID_ARGUMENT', async (_name, req, message) => {
    const err = await fail(createStream({ reader: new FakeReader() }, req, testContext()));
    expect(codeOf(err)).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
  });
});
