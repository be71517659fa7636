import { describe, expect, it } from 'vitest';
import { batchContext, collect } from '../../../handlers/shared/batch.ts';
import { testContext } from '../../support/context.ts';
import type { FunctionError } from '../../../adapters/function/errors.ts';
import { eventHandler } from '../../../adapters/function/handler.ts';
import { fakeFunctionRuntime as fakeRuntime, lambdaContext } from '../../support/fake-runtime.ts';

interface Event { offset: string; partition: number; payload: string; cursor: string }
interface Tail { events: Event[]; cursor: string }
interface Message { partition: number; offset: string; payload: string; receipt: string; attempt: number }
interface Batch { messages: Message[]; group: string; nextOffsets: Record<string, string> }

const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a FunctionError'); }, (e: unknown) => e as FunctionError);

function setup() {
  const f = fakeRuntime();
  const handler = eventHandler(f.runtime);
  const call = <T>(operation: string, request: object, ms = 5_000) => handler({ operation, request }, lambdaContext(ms)) as Promise<T>;
  const append = (partition: number, value: string) => f.log.append('orders', partition, { value: Buffer.from(value), timestamp: 1 });
  return { ...f, call, append };
}
const text = (base64: string) => Buffer.from(base64, 'base64').toString();

describe('tail in function mode', () => {
  it('returns at most max_events, each with its cursor, and the answer resumes after the last one', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.append(0, `e${i}`);
    const first = await t.call<Tail>('tail', { topic: 'orders', start: 'earliest', max_events: 3 });
    expect(first.events.map((e) => text(e.payload))).toEqual(['e0', 'e1', 'e2']);
    expect(first.cursor).toBe(first.events[2]!.cursor);
    const rest = await t.call<Tail>('tail', { topic: 'orders', cursor: first.cursor, max_events: 10, max_wait_ms: 100 });
    expect(rest.events.map((e) => text(e.payload))).toEqual(['e3', 'e4']);
  });

  it('answers an empty batch after max_wait_ms with the start position, so nothing appended meanwhile is missed', async () => {
    const t = setup();
    t.append(1, 'old');
    const started = Date.now();
    const empty = await t.call<Tail>('tail', { topic: 'orders', max_wait_ms: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(empty.events).toEqual([]);
    t.append(2, 'new');
    const next = await t.call<Tail>('tail', { topic: 'orders', cursor: empty.cursor, max_wait_ms: 100 });
    expect(next.events.map((e) => text(e.payload))).toEqual(['new']);
    expect(t.reader.openFetchers).toBe(0);
  });

  it('stops before the invocation deadline however long max_wait_ms is', async () => {
    const t = setup();
    const started = Date.now();
    await t.call<Tail>('tail', { topic: 'orders', max_wait_ms: 60_000 }, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses bad bounds and the gRPC Tail errors alike (INVALID_ARGUMENT, NOT_FOUND)', async () => {
    const t = setup();
    expect(await thrown(t.call('tail', { topic: 'orders', max_events: 10_001 }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await thrown(t.call('tail', { topic: 'orders', start: 'earliest', cursor: 'x' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await thrown(t.call('tail', { topic: 'missing' }))).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('consume_batch and ack in function mode', () => {
  it('returns at most max_messages with receipts and next offsets, leaves the group, and ack commits those offsets', async () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.append(0, `m${i}`);
    const batch = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g1', max_messages: 3 });
    expect(batch.messages.map((m) => text(m.payload))).toEqual(['m0', 'm1', 'm2']);
    // fn2:group:topic:partition:from:offset — the first one from where the group starts (nothing committed: 0).
    expect(batch.messages.map((m) => m.receipt)).toEqual(['fn2:g1:orders:0:0:0', 'fn2:g1:orders:0:1:1', 'fn2:g1:orders:0:2:2']);
    expect(batch.nextOffsets).toEqual({ 0: '3' });
    expect(t.groups.members.get('g1')).toBe(0);

    // Not acknowledged yet: the group's next batch starts at the same place (at-least-once).
    const again = await t.call<Batch>('consume', { topic: 'orders', group: 'g1', max_messages: 1 });
    expect(again.messages.map((m) => m.offset)).toEqual(['0']);

    const ack = await t.call<{ acknowledged: number; committed: string[] }>('ack', { receipts: batch.messages.map((m) => m.receipt) });
    expect(ack).toEqual({ acknowledged: 3, committed: ['orders/0=3'] });
    const after = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g1', max_wait_ms: 100 });
    expect(after.messages.map((m) => text(m.payload))).toEqual(['m3']);
  });

  it('commits only forward: an older receipt acknowledged later changes nothing', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.append(1, `m${i}`);
    const batch = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g2', max_messages: 3 });
    await t.call('ack', { receipts: batch.messages.map((m) => m.receipt) });
    expect(await t.call('ack', { receipts: [batch.messages[0]!.receipt] })).toEqual({ acknowledged: 1, committed: [] });
    expect(t.groups.committed.get('g2/orders')?.get(1)).toBe('3');
  });

  it('commits nothing past an unacknowledged message: acking the last receipt alone answers that nothing was committed', async () => {
    const t = setup();
    for (let i = 0; i < 4; i++) t.append(2, `m${i}`);
    const batch = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g4', max_messages: 4 });
    expect(await t.call('ack', { receipts: [batch.messages[3]!.receipt] })).toEqual({ acknowledged: 0, committed: [] });
    expect(t.groups.committed.get('g4/orders')).toBeUndefined();
    // Acknowledged in order, one call each, the commit follows: the group's offset is where each one continues.
    expect(await t.call('ack', { receipts: [batch.messages[0]!.receipt] })).toEqual({ acknowledged: 1, committed: ['orders/2=1'] });
    expect(await t.call('ack', { receipts: [batch.messages[2]!.receipt, batch.messages[3]!.receipt] })).toEqual({ acknowledged: 0, committed: [] });
    expect(await t.call('ack', { receipts: batch.messages.slice(1).map((m) => m.receipt) })).toEqual({ acknowledged: 3, committed: ['orders/2=4'] });
  });

  it('starts the next batch from the committed offset: its first receipt vouches from there', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.append(0, `m${i}`);
    t.groups.committed.set('g5/orders', new Map([[0, '1']]));
    const batch = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g5', max_messages: 2 });
    expect(batch.messages.map((m) => m.receipt)).toEqual(['fn2:g5:orders:0:1:1', 'fn2:g5:orders:0:2:2']);
  });

  it('retries the commit while the group has members, and gives up before the deadline with a retryable FAILED_PRECONDITION', async () => {
    const t = setup();
    t.append(0, 'x');
    // A second message, so the receipt acknowledged below names one the log has (acks of unknown messages are refused).
    t.append(0, 'y');
    const batch = await t.call<Batch>('consume_batch', { topic: 'orders', group: 'g3', max_messages: 1 });
    t.groups.busyCommits = 2;
    expect(await t.call('ack', { receipts: [batch.messages[0]!.receipt] })).toMatchObject({ committed: ['orders/0=1'] });
    t.groups.busyCommits = 1_000;
    const started = Date.now();
    const err = await thrown(t.call('ack', { receipts: ['fn1:g3:orders:0:1'] }, 1_500));
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('refuses receipts that are not from consume_batch, and bad bounds', async () => {
    const t = setup();
    expect(await thrown(t.call('ack', { receipts: ['session-1:0:0:5'] }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('expected a receipt from consume_batch') as string });
    expect(await thrown(t.call('ack', { receipts: [] }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await thrown(t.call('consume_batch', { topic: 'orders', max_messages: -1 }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('bounded collection', () => {
  async function* numbers(log: string[], delayMs = 0) {
    try {
      for (let i = 0; ; i++) {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        yield i;
      }
    } finally {
      log.push('finally');
    }
  }

  it('stops at the count, the byte budget (always taking the first item) or the time, and always ends the stream', async () => {
    const log: string[] = [];
    const far = Date.now() + 10_000;
    expect(await collect(numbers(log), { max: 3, until: far, maxBytes: 1e9, sizeOf: () => 1 }, batchContext(testContext()))).toEqual([0, 1, 2]);
    expect(await collect(numbers(log), { max: 10, until: far, maxBytes: 10, sizeOf: () => 4 }, batchContext(testContext()))).toEqual([0, 1]);
    expect(await collect(numbers(log), { max: 10, until: far, maxBytes: 1, sizeOf: () => 4 }, batchContext(testContext()))).toEqual([0]);
    const timed = await collect(numbers(log, 40), { max: 100, until: Date.now() + 100, maxBytes: 1e9, sizeOf: () => 1 }, batchContext(testContext()));
    expect(timed.length).toBeGreaterThanOrEqual(1);
    expect(timed.length).toBeLessThanOrEqual(3);
    expect(log).toEqual(['finally', 'finally', 'finally', 'finally']);
  });

  it('starts a stream it never pulled from, so the handler still releases what it holds', async () => {
    const log: string[] = [];
    const batch = batchContext(testContext());
    expect(await collect(numbers(log), { max: 0, until: 0, maxBytes: 0, sizeOf: () => 0 }, batch)).toEqual([]);
    expect(log).toEqual(['finally']);
    expect(batch.ctx.signal.aborted).toBe(true);
  });
});

describe('a batch context', () => {
  it('fires when the call ends and when the batch is complete, with the reason of whichever came first', () => {
    const call = new AbortController();
    const batch = batchContext(testContext({ signal: call.signal }));
    call.abort(new Error('deadline'));
    expect((batch.ctx.signal.reason as Error).message).toBe('deadline');
    const done = batchContext(testContext());
    done.abort.abort(new Error('complete'));
    expect((done.ctx.signal.reason as Error).message).toBe('complete');
  });
});
