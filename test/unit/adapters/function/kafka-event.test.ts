import { describe, expect, it } from 'vitest';
import { FunctionError } from '../../../../adapters/function/errors.ts';
import { kafkaEventHandler } from '../../../../adapters/function/handler.ts';
import type { KafkaEventRecord } from '../../../../adapters/function/kafka-event.ts';
import { fakeFunctionRuntime as fakeRuntime, lambdaContext } from '../../../support/fake-runtime.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** An MSK event as Lambda delivers it (the developer guide's example shape): two partitions of "orders". */
function mskEvent(partitions: Record<number, string[]>) {
  const records: Record<string, unknown[]> = {};
  for (const [p, values] of Object.entries(partitions)) {
    records[`orders-${p}`] = values.map((v, i) => ({
      topic: 'orders', partition: Number(p), offset: 100 + i, timestamp: 1_700_000_000_000 + i, timestampType: 'CREATE_TIME',
      key: i === 0 ? b64('k') : null, value: b64(v),
      headers: [{ 'trace-id': [...Buffer.from('t-1')] }, { signed: [-1, 127] }],
    }));
  }
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/c/abc', bootstrapServers: 'b-1:9092', records };
}

describe('Kafka event source batches', () => {
  it('runs the record handler for every record, decoding key, value and headers, and reports no failure', async () => {
    const seen: KafkaEventRecord[] = [];
    const handler = kafkaEventHandler(fakeRuntime().runtime, (r) => {
      seen.push(r);
    });
    const res = await handler(mskEvent({ 0: ['a', 'b'], 1: ['c'] }), lambdaContext());
    expect(res).toEqual({ batchItemFailures: [] });
    expect(seen.map((r) => `${r.partition}/${r.offset}=${r.value.toString()}`).sort()).toEqual(['0/100=a', '0/101=b', '1/100=c']);
    const first = seen.find((r) => r.partition === 0 && r.offset === '100')!;
    expect(first.key).toEqual(Buffer.from('k'));
    expect(first.headers).toEqual([['trace-id', Buffer.from('t-1')], ['signed', Buffer.from([255, 127])]]);
    expect(first).toMatchObject({ topic: 'orders', topicPartition: 'orders-0', timestamp: 1_700_000_000_000, timestampType: 'CREATE_TIME' });
    expect(seen.find((r) => r.offset === '101')!.key).toBeUndefined();
  });

  it('reports a failed record and every later record of its partition, in the documented itemIdentifier shape', async () => {
    const processed: string[] = [];
    const handler = kafkaEventHandler(fakeRuntime().runtime, (r) => {
      if (r.value.toString() === 'bad') throw new Error('cannot parse');
      processed.push(r.value.toString());
    });
    const res = await handler(mskEvent({ 0: ['a', 'bad', 'c'], 1: ['d', 'e'] }), lambdaContext());
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: { 'topic-partition': 'orders-0', offset: 101 } },
      { itemIdentifier: { 'topic-partition': 'orders-0', offset: 102 } },
    ]);
    expect(processed.sort()).toEqual(['a', 'd', 'e']);
  });

  it('reports the records it could not finish before the deadline instead of timing out the batch', async () => {
    const handler = kafkaEventHandler(fakeRuntime().runtime, async (r) => {
      if (r.value.toString() === 'slow') await new Promise((resolve) => setTimeout(resolve, 5_000));
    });
    const started = Date.now();
    const res = await handler({ ...mskEvent({ 0: ['a', 'slow', 'c'] }), eventSource: 'SelfManagedKafka' }, lambdaContext(800));
    expect(Date.now() - started).toBeLessThan(800);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier.offset)).toEqual([101, 102]);
  });

  it('lets the record handler use the plugin operations over the cached connections', async () => {
    const f = fakeRuntime();
    const handler = kafkaEventHandler(f.runtime, async (r, ctx) => {
      await ctx.call('publish', { topic: 'orders', payload: b64(`copy of ${r.value.toString()}`) });
    });
    expect(await handler(mskEvent({ 1: ['x'] }), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(f.log.get('orders').partitions.flat().map((r) => r.value.toString())).toEqual(['copy of x']);
    expect(f.runtime.cacheStats.builds).toBe(1);
  });

  it('rejects a malformed event as a whole (Lambda retries the batch), naming the bad field', async () => {
    const handler = kafkaEventHandler(fakeRuntime().runtime, () => undefined);
    const err = await handler({ eventSource: 'aws:kafka', records: { 'orders-0': [{ topic: 'orders', partition: 0 }] } }, lambdaContext()).catch((e: unknown) => e as FunctionError);
    expect(err).toBeInstanceOf(FunctionError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as FunctionError).message).toContain('records.orders-0[0].offset: expected an offset, got nothing');
  });
});
