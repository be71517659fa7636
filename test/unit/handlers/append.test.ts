import { describe, expect, it } from 'vitest';
import { isPluginError, PluginError } from '../../../core/errors.ts';
import { append, appendBatch, type AppendDeps } from '../../../handlers/append.ts';
import { testContext } from '../../support/context.ts';
import { FakeProducer } from '../../support/fake-producer.ts';
import { FakeLog } from '../../support/fake-reader.ts';
import { testMetrics } from '../../support/streams.ts';

const now = Date.UTC(2026, 0, 1);
const codeOf = (err: unknown) => (isPluginError(err) ? err.code : String(err));
const fail = (promise: Promise<unknown>) => promise.then(() => 'resolved', (e: unknown) => e);

function setup() {
  const log = new FakeLog();
  log.createTopic('events', 3);
  const producer = new FakeProducer(log);
  const metrics = testMetrics();
  const deps: AppendDeps = { producer, metrics, limits: { maxMessageBytes: 1_000 }, now: () => now };
  const counted = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);
  return { log, producer, deps, counted };
}

describe('append handler', () => {
  it('stores the event time as the record timestamp and the tags as headers, and answers with partition and offset', async () => {
    const { log, deps, counted } = setup();
    // As proto-loader delivers it: int64 as a decimal string, bytes as Buffers, the optional partition set.
    const res = await append(deps, { topic: 'events', payload: Buffer.from('hello'), key: Buffer.from('k'), tags: { source: 'test' }, event_time: String(now - 5_000), partition: 2 }, testContext());
    expect(res).toEqual({ topic: 'events', partition: 2, offset: '0', timestamp: now - 5_000 });
    expect(log.get('events').partitions[2]![0]).toMatchObject({ timestamp: now - 5_000, key: Buffer.from('k'), value: Buffer.from('hello'), headers: [['source', Buffer.from('test')]] });
    expect(await counted('kafka_plugin_messages_produced_total')).toBe(1);
  });

  it('stamps an event without event time (0, the proto default) with the time of the append', async () => {
    const { producer, deps } = setup();
    const res = await append(deps, { topic: 'events', payload: Buffer.from('x'), key: Buffer.alloc(0), tags: {}, event_time: '0' }, testContext());
    expect(res.timestamp).toBe(now);
    expect(producer.calls[0]![0]).not.toHaveProperty('key');
  });

  it('answers a broker failure with its error and counts it', async () => {
    const { producer, deps, counted } = setup();
    producer.fail = () => new PluginError('UNAVAILABLE', 'produce failed: NOT_ENOUGH_REPLICAS');
    const err = await fail(append(deps, { topic: 'events', payload: Buffer.from('x') }, testContext()));
    expect(codeOf(err)).toBe('UNAVAILABLE');
    expect(await counted('kafka_plugin_delivery_errors_total')).toBe(1);
  });

  it.each([
    ['a bad topic', { topic: '', payload: Buffer.from('x') }, 'topic: expected a topic name of 1–249 characters'],
    ['a payload that is not bytes', { topic: 'events', payload: 'text' }, 'payload: expected payload as bytes, got "text"'],
    ['a negative event time', { topic: 'events', payload: Buffer.from('x'), event_time: '-1' }, 'event_time: expected event_time: Unix epoch milliseconds, 0 or more, got "-1"'],
    ['a negative partition', { topic: 'events', payload: Buffer.from('x'), partition: -1 }, 'partition: expected a partition number: a whole number, 0 or more, got -1'],
    ['a record over the size limit', { topic: 'events', payload: Buffer.alloc(2_000) }, 'payload: expected a record of at most 1000 bytes (payload, key and tags), got 2070 bytes'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_name, request, message) => {
    const { producer, deps } = setup();
    const err = await fail(append(deps, request, testContext()));
    expect(codeOf(err)).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect(producer.calls).toHaveLength(0);
  });
});

describe('appendBatch handler', () => {
  const records = (n: number) => Array.from({ length: n }, (_, i) => ({ payload: Buffer.from(`e${i}`), event_time: String(now + i), tags: { i: String(i) } }));

  it('appends every record in one produce call, with one result per record in order', async () => {
    const { producer, deps } = setup();
    const res = await appendBatch(deps, { topic: 'events', records: records(10) }, testContext());
    expect(producer.calls).toHaveLength(1);
    expect(res.appended).toBe(10);
    expect(res.failed).toBe(0);
    expect(res.results.map((r) => r.timestamp)).toEqual(records(10).map((r) => Number(r.event_time)));
  });

  it('reports each failed record beside the appended ones', async () => {
    const { producer, deps } = setup();
    producer.fail = (_r, i) => (i === 1 ? new PluginError('UNAVAILABLE', 'produce failed: REQUEST_TIMED_OUT') : undefined);
    const res = await appendBatch(deps, { topic: 'events', records: records(3) }, testContext());
    expect(res).toMatchObject({ appended: 2, failed: 1 });
    expect(res.results[1]).toMatchObject({ success: false, error_code: 'UNAVAILABLE', retryable: true, error: 'produce failed: REQUEST_TIMED_OUT' });
  });

  it('fails as a whole when no record was appended', async () => {
    const { producer, deps } = setup();
    producer.fail = () => new PluginError('UNAVAILABLE', 'produce failed: LEADER_NOT_AVAILABLE');
    expect(codeOf(await fail(appendBatch(deps, { topic: 'events', records: records(2) }, testContext())))).toBe('UNAVAILABLE');
  });

  it('refuses an empty batch and names each record over the size limit', async () => {
    const { deps } = setup();
    expect((await fail(appendBatch(deps, { topic: 'events', records: [] }, testContext())) as Error).message).toContain('records: expected at least one record');
    const big = [...records(2), { payload: Buffer.alloc(5_000) }];
    expect((await fail(appendBatch(deps, { topic: 'events', records: big }, testContext())) as Error).message).toContain('records[2].payload: expected a record of at most 1000 bytes');
  });
});
