import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventHandler } from '../../adapters/function/handler.ts';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';

interface Batch { messages: { offset: string; payload: string; receipt: string }[] }
interface Ack { acknowledged: number; committed: string[] }

const run = promisify(execFile);
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
let runtime: FunctionRuntime;
let invoke: <T>(operation: string, request: object) => Promise<T>;

beforeAll(() => {
  runtime = new FunctionRuntime({ env: { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_LOG_LEVEL: 'silent' } });
  const handler = eventHandler(runtime);
  // A group's first join waits the broker's rebalance delay: the budget a deployed function should have too.
  invoke = <T>(operation: string, request: object) => {
    const until = Date.now() + 25_000;
    return handler({ operation, request }, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => until - Date.now() }) as Promise<T>;
  };
});
afterAll(() => runtime.close());

/** CURRENT-OFFSET of each partition of `topic` as Kafka's own tool reports it ('-' where nothing is committed). */
async function describeGroup(group: string, topic: string): Promise<string[]> {
  const { stdout } = await run('bash', ['scripts/infra/kafka-tool.sh', 'kafka-consumer-groups', '--bootstrap-server', inject('kafkaBrokers'), '--describe', '--group', group]);
  // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG …
  return stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[1] === topic).sort((a, b) => Number(a[2]) - Number(b[2])).map((r) => r[3]!);
}

describe('function-mode ack against the real broker', () => {
  it('commits nothing past an unacknowledged message: acking only the last receipt of a batch leaves all ten to come again', async () => {
    const topic = name('fn-ack');
    const group = name('g');
    await invoke('create_stream', { topic, partitions: 1 });
    await invoke('publish_batch', { messages: Array.from({ length: 10 }, (_, i) => ({ topic, payload: Buffer.from(`m${i}`).toString('base64') })) });

    const first = await invoke<Batch>('consume_batch', { topic, group, max_messages: 10, max_wait_ms: 5_000 });
    expect(first.messages.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(await invoke<Ack>('ack', { receipts: [first.messages[9]!.receipt] })).toEqual({ acknowledged: 0, committed: [] });
    // The old position: nothing, or 0 (joining and leaving may store the start position; never past a message).
    expect(['-', '0']).toContain((await describeGroup(group, topic))[0]);

    // Nothing was committed, so the group's next batch starts at the beginning again: the nine never acked included.
    const again = await invoke<Batch>('consume_batch', { topic, group, max_messages: 10, max_wait_ms: 5_000 });
    expect(again.messages.map((m) => Buffer.from(m.payload, 'base64').toString())).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));

    expect(await invoke<Ack>('ack', { receipts: again.messages.map((m) => m.receipt) })).toEqual({ acknowledged: 10, committed: [`${topic}/0=10`] });
    expect(await describeGroup(group, topic)).toEqual(['10']);
    const after = await invoke<Batch>('consume_batch', { topic, group, max_messages: 10, max_wait_ms: 1_000 });
    expect(after.messages).toEqual([]);
  }, 120_000);

  it('commits a batch acknowledged in two calls in order, each up to its own last message', async () => {
    const topic = name('fn-ack-order');
    const group = name('g');
    await invoke('create_stream', { topic, partitions: 1 });
    await invoke('publish_batch', { messages: Array.from({ length: 6 }, (_, i) => ({ topic, payload: Buffer.from(`m${i}`).toString('base64') })) });
    const batch = await invoke<Batch>('consume_batch', { topic, group, max_messages: 6, max_wait_ms: 5_000 });
    const receipts = batch.messages.map((m) => m.receipt);
    expect(receipts).toHaveLength(6);
    expect(await invoke<Ack>('ack', { receipts: receipts.slice(0, 3) })).toEqual({ acknowledged: 3, committed: [`${topic}/0=3`] });
    expect(await invoke<Ack>('ack', { receipts: receipts.slice(3) })).toEqual({ acknowledged: 3, committed: [`${topic}/0=6`] });
    expect(await describeGroup(group, topic)).toEqual(['6']);
  }, 120_000);
});
