import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueueSession, type Delivery } from '../../../../core/queue/session.ts';
import { FakeSubscription } from '../../../support/fake-group.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog } from '../../../support/fake-reader.ts';

// The session against a reference model, over random interleavings of deliver, ack, nack (requeue or dead-letter),
// rebalances that keep or lose partitions (with fetches in flight across them) and close. The invariant checked after
// every step: per partition, the committed offset never passes an offset that was neither acked nor dead-lettered.
// At the end every message is settled: nothing is ever skipped.

type Command =
  | { kind: 'push'; partition: number }
  | { kind: 'take' }
  | { kind: 'ack'; pick: number }
  | { kind: 'nack'; pick: number; requeue: boolean }
  | { kind: 'revoke'; partition: number }
  | { kind: 'assign'; partition: number };

const partitions = [0, 1];
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), partition: fc.constantFrom(...partitions) }),
  fc.constant({ kind: 'take' as const }),
  fc.record({ kind: fc.constant('ack' as const), pick: fc.nat(20) }),
  fc.record({ kind: fc.constant('nack' as const), pick: fc.nat(20), requeue: fc.boolean() }),
  fc.record({ kind: fc.constant('revoke' as const), partition: fc.constantFrom(...partitions) }),
  fc.record({ kind: fc.constant('assign' as const), partition: fc.constantFrom(...partitions) }),
);

class Model {
  readonly pushed = new Map<number, number>(partitions.map((p) => [p, 0]));
  readonly settled = new Set<string>();
  /** Receipts delivered and not yet settled (as the caller holds them). */
  readonly held: Delivery[] = [];

  committed(sub: FakeSubscription, partition: number): number {
    const acks = sub.commits.filter((c) => c.partition === partition && c.metadata === '');
    return acks.length === 0 ? 0 : Math.max(...acks.map((c) => Number(c.offset)));
  }

  check(sub: FakeSubscription): void {
    for (const p of partitions) {
      const c = this.committed(sub, p);
      for (let o = 0; o < c; o++) expect(this.settled.has(`${p}:${o}`), `partition ${p} committed ${c} past unsettled offset ${o}`).toBe(true);
    }
  }
}

async function run(commands: Command[]): Promise<void> {
  const sub = new FakeSubscription();
  const log = new FakeLog();
  log.createTopic('t.dlq', 1);
  const session = new QueueSession({ id: 's~1', topic: 't', group: 'g', maxUnacked: 4, maxAttempts: 3, deadLetterTopic: 't.dlq', backoff: { initialMs: 1, maxMs: 2, factor: 1 } }, sub, new FakeProducer(log));
  const model = new Model();
  const gen = session.deliveries(new AbortController().signal);
  let pending: Promise<IteratorResult<Delivery>> | undefined;
  const take = async (ms: number): Promise<void> => {
    pending ??= gen.next();
    const r = await Promise.race([pending, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);
    if (r === undefined) return;
    pending = undefined;
    if (r.done !== true) model.held.push(r.value);
  };
  const settle = async (d: Delivery, how: 'ack' | 'dead' | 'requeue') => {
    model.held.splice(model.held.indexOf(d), 1);
    const key = `${d.record.partition}:${d.record.offset}`;
    if (how === 'ack') {
      const ok = await session.ack([d.receipt]).then(() => true, () => false);
      if (ok && sub.owned.includes(d.record.partition)) model.settled.add(key);
    } else {
      const r = await session.nack([d.receipt], how === 'requeue', 'model').catch(() => undefined);
      if (r?.results[0]?.outcome === 'dead_lettered') model.settled.add(key);
    }
  };
  sub.assign(partitions);
  for (const c of commands) {
    if (c.kind === 'push') {
      const o = model.pushed.get(c.partition)!;
      sub.push(c.partition, o);
      model.pushed.set(c.partition, o + 1);
    } else if (c.kind === 'take') await take(5);
    else if (c.kind === 'ack' || c.kind === 'nack') {
      const d = model.held[c.pick % Math.max(1, model.held.length)];
      if (d !== undefined) await settle(d, c.kind === 'ack' ? 'ack' : c.requeue ? 'requeue' : 'dead');
    } else if (c.kind === 'revoke') await sub.revoke([c.partition]);
    else if (!sub.owned.includes(c.partition)) sub.assign([c.partition], String(model.committed(sub, c.partition)));
    model.check(sub);
  }
  // Drain: own everything again and settle whatever comes until all is committed.
  for (const p of partitions) if (!sub.owned.includes(p)) sub.assign([p], String(model.committed(sub, p)));
  const total = [...model.pushed.values()].reduce((a, b) => a + b, 0);
  for (let round = 0; round < 400 && model.settled.size < total; round++) {
    await take(3);
    for (const d of [...model.held]) await settle(d, 'ack');
    model.check(sub);
  }
  for (const p of partitions) expect(model.committed(sub, p), `partition ${p} drained`).toBe(model.pushed.get(p));
  await session.close(false);
}

describe('QueueSession against a reference model', () => {
  it('never commits past an unsettled offset, and settles every message in the end', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { maxLength: 40 }), run), { numRuns: 60, seed: 20261203 });
  }, 120_000);
});
