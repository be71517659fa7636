import { describe, expect, it } from 'vitest';
import { PluginError, isPluginError } from '../../../core/errors.ts';
import { createMetrics } from '../../../core/metrics/metrics.ts';
import type { ProducerPort } from '../../../core/kafka/producer-port.ts';
import { publish } from '../../../handlers/publish.ts';
import { publishBatch } from '../../../handlers/publish-batch.ts';
import { testContext } from '../../support/context.ts';
import { FakeProducer } from '../../support/fake-producer.ts';
import { FakeLog } from '../../support/fake-reader.ts';

function deps(producer: ProducerPort = withTopic()) {
  const metrics = createMetrics({ namespace: 'unit', defaultMetrics: false });
  return { producer, metrics, limits: { maxMessageBytes: 100 }, newId: () => 'generated-id' };
}

function withTopic() {
  const log = new FakeLog();
  log.createTopic('orders', 3);
  return new FakeProducer(log, () => 1_700_000_000_000);
}

const fail = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('publish handler', () => {
  it('writes the message id header and metadata as headers, and answers with the ack', async () => {
    const d = deps();
    const res = await publish(d, { topic: 'orders', payload: Buffer.from('x'), metadata: { a: '1' }, key: Buffer.from('k') }, testContext());
    expect(res).toMatchObject({ message_id: 'generated-id', topic: 'orders', offset: '0', timestamp: 1_700_000_000_000 });
    const record = (d.producer as FakeProducer).calls[0]![0]!;
    expect(record.headers.map(([k, v]) => [k, v.toString()])).toEqual([['prism-message-id', 'generated-id'], ['a', '1']]);
    expect(record.key?.toString()).toBe('k');
  });

  it('keeps a caller-supplied id, from the field or the prism-message-id metadata entry', async () => {
    const d = deps();
    expect((await publish(d, { topic: 'orders', payload: Buffer.from('x'), message_id: 'mine' }, testContext())).message_id).toBe('mine');
    expect((await publish(d, { topic: 'orders', payload: Buffer.from('x'), metadata: { 'prism-message-id': 'meta-id' } }, testContext())).message_id).toBe('meta-id');
  });

  it.each([
    [{ topic: 'a/b', payload: Buffer.from('x') }, 'topic: expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -, got "a/b"'],
    [{ topic: 'orders', payload: Buffer.alloc(101) }, 'payload: expected a payload of at most 100 bytes, got <101 bytes>'],
    [{ topic: 'orders', payload: 'text' }, 'payload: expected bytes, got "text"'],
    [{ topic: 'orders', payload: Buffer.from('x'), partition: -1 }, 'partition: expected a partition number ≥ 0, got -1'],
    [{ topic: 'orders', payload: Buffer.from('x'), metadata: { '': 'v' } }, 'metadata[""]: expected a non-empty header name, got "v"'],
    [{ topic: 'orders', payload: Buffer.from('x'), metadata: { n: 5 } }, 'metadata.n: expected a string header value, got 5'],
  ])('rejects %j with INVALID_ARGUMENT naming the field', async (request, message) => {
    const d = deps();
    const err = await fail(publish(d, request, testContext()));
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toContain(message);
    expect((d.producer as FakeProducer).calls).toEqual([]);
  });

  it('passes a broker failure through and counts it', async () => {
    const producer = withTopic();
    producer.fail = () => new PluginError('UNAVAILABLE', 'no leader');
    const d = deps(producer);
    const err = await fail(publish(d, { topic: 'orders', payload: Buffer.from('x') }, testContext()));
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(await d.metrics.registry.getSingleMetricAsString('kafka_plugin_delivery_errors_total')).toContain('code="UNAVAILABLE"');
  });

  it('answers UNAVAILABLE just before the deadline when the broker never acknowledges', async () => {
    const stuck: ProducerPort = { produce: () => new Promise(() => undefined), pending: () => 1, close: () => Promise.resolve() };
    const started = Date.now();
    const err = await fail(publish(deps(stuck), { topic: 'orders', payload: Buffer.from('x') }, testContext({ deadline: Date.now() + 200 })));
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(200);
  });
});

describe('publish batch handler', () => {
  it('answers every message in order, failures per message', async () => {
    const producer = withTopic();
    producer.fail = (_r, i) => (i === 1 ? new PluginError('UNAVAILABLE', 'partition offline') : undefined);
    const { results } = await publishBatch(deps(producer), { messages: [0, 1, 2].map((i) => ({ topic: 'orders', payload: Buffer.from(`m${i}`), partition: 0 })) }, testContext());
    expect(results.map((r) => [r.index, r.success, r.error_code])).toEqual([[0, true, undefined], [1, false, 'UNAVAILABLE'], [2, true, undefined]]);
  });

  it('rejects the whole batch when one message is invalid, naming its index', async () => {
    const d = deps();
    const err = await fail(publishBatch(d, { messages: [{ topic: 'orders', payload: Buffer.from('x') }, { topic: '', payload: Buffer.from('x') }] }, testContext()));
    expect((err as Error).message).toContain('messages[1].topic: expected a topic name');
    expect((d.producer as FakeProducer).calls).toEqual([]);
  });
});
