import type { Client } from '@grpc/grpc-js';
import { call, client, StreamReader } from '../../support/grpc-client.ts';
import type { Ledger } from './ledger.ts';

const QUEUE = 'prism.interfaces.queue.QueueBasicInterface';

interface QueueMessage { message_id: string; topic: string; partition: number; offset: string; receipt: string; attempt: number }

/** What a consumer does with one delivery. */
export type Verdict = { do: 'ack' } | { do: 'requeue' } | { do: 'dead-letter' } | { do: 'hold'; ms: number };

export interface StormStreamOptions {
  address: string;
  /** Index of the plugin the stream is on (the scenario's own bookkeeping). */
  plugin: number;
  topic: string;
  group: string;
  subscriberId: string;
  maxUnacked: number;
  ledger: Ledger;
  /** Decides per (message id, attempt): the same seed gives the same choices whatever the arrival order. */
  decide: (m: { id: string; attempt: number }) => Verdict;
}

/**
 * One Queue.Consume stream of the rebalance storm. Each delivery is acked, nacked with requeue, dead-lettered or
 * held for a while and then acked, one receipt per call: an Ack answer counts receipts, not which ones, so only a
 * one-receipt call tells the books exactly which message the plugin took (acknowledged 0 = receipt voided by a
 * rebalance: the message must come again). In drain mode everything outstanding and arriving is acked at once.
 */
export class StormStream {
  readonly options: StormStreamOptions;
  readonly #c: Client;
  readonly #stream: StreamReader<QueueMessage>;
  readonly #held = new Map<string, { m: QueueMessage; timer: NodeJS.Timeout }>();
  readonly #calls = new Set<Promise<void>>();
  #draining = false;
  #gone = false;
  deliveries = 0;
  voided = 0;
  /** Set by the crowd once a new stream took this dead one's place. */
  replaced = false;

  constructor(options: StormStreamOptions) {
    this.options = options;
    this.#c = client(options.address, QUEUE);
    const { topic, group, subscriberId, maxUnacked } = options;
    this.#stream = new StreamReader<QueueMessage>(this.#c, 'Consume', { topic, group, subscriber_id: subscriberId, max_unacked: maxUnacked }, (m) => this.#onMessage(m));
    this.#stream.ready.catch(() => undefined);
  }

  /** Still consuming: not cancelled by us and not ended or failed (a killed plugin ends it). */
  get alive(): boolean {
    return !this.#gone && !this.#stream.ended && this.#stream.error === undefined;
  }

  /** Held (delivered, not yet settled) messages. */
  get held(): number {
    return this.#held.size;
  }

  /** Settles every held message now: acks, or nacks with requeue. */
  release(verdict: { do: 'ack' } | { do: 'requeue' }): void {
    for (const [receipt, h] of this.#held) {
      clearTimeout(h.timer);
      this.#held.delete(receipt);
      this.#settle(h.m, verdict);
    }
  }

  /** From now on ack everything, held messages included. */
  drain(): void {
    this.#draining = true;
    this.release({ do: 'ack' });
  }

  /** The client disappears: the stream is cancelled with whatever it holds unacknowledged. */
  vanish(): void {
    this.#gone = true;
    for (const h of this.#held.values()) clearTimeout(h.timer);
    this.#held.clear();
    this.#stream.cancel();
    this.#c.close();
  }

  /** A graceful leave: settle what is outstanding, wait for the answers, then end the stream. */
  async leave(): Promise<void> {
    this.drain();
    await Promise.all([...this.#calls]);
    this.vanish();
  }

  #onMessage(m: QueueMessage): void {
    this.deliveries++;
    this.options.ledger.deliver(m.message_id);
    if (this.#gone) return;
    const verdict: Verdict = this.#draining ? { do: 'ack' } : this.options.decide({ id: m.message_id, attempt: m.attempt });
    if (verdict.do !== 'hold') return this.#settle(m, verdict);
    const timer = setTimeout(() => {
      this.#held.delete(m.receipt);
      this.#settle(m, { do: 'ack' });
    }, verdict.ms);
    this.#held.set(m.receipt, { m, timer });
  }

  #settle(m: QueueMessage, verdict: Verdict): void {
    if (this.#gone) return;
    const { ledger } = this.options;
    const id = m.message_id;
    const done = (async () => {
      try {
        if (verdict.do === 'ack') {
          const { acknowledged } = await call<{ acknowledged: number }>(this.#c, 'Ack', { receipts: [m.receipt] }, { deadlineMs: 5_000 });
          if (acknowledged === 1) ledger.consumerAck(id);
          else this.voided++;
        } else {
          const requeue = verdict.do === 'requeue';
          const r = await call<{ requeued: number; dead_lettered: number }>(this.#c, 'Nack', { receipts: [m.receipt], requeue, reason: `storm ${verdict.do}` }, { deadlineMs: 5_000 });
          if (r.dead_lettered === 1) ledger.nackDeadLettered.add(id);
        }
      } catch {
        // The answer was lost (the plugin died mid-call): the ack may have been committed, so never call it skipped.
        if (verdict.do === 'ack') ledger.consumerAckUnanswered.add(id);
        ledger.extra.settle_errors = Number(ledger.extra.settle_errors ?? 0) + 1;
      }
    })();
    this.#calls.add(done);
    void done.finally(() => this.#calls.delete(done));
  }
}
