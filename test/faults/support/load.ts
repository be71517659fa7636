import type { Client } from '@grpc/grpc-js';
import { call, client, StreamReader } from '../../support/grpc-client.ts';
import type { Ledger } from './ledger.ts';

const QUEUE = 'prism.interfaces.queue.QueueBasicInterface';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One publish call's outcome, for recovery and hang measurements. */
export interface Outcome { at: number; ok: boolean; ms: number }

export interface PublishLoad {
  readonly outcomes: Outcome[];
  /** Calls that took longer than their deadline plus one second (must stay zero: nothing hangs). */
  readonly hung: number;
  stop(): Promise<void>;
}

/**
 * Publishers calling Queue.Publish one record at a time, each record carrying its own message id, until stopped.
 * Every id goes into the ledger as sent, and as acknowledged once the plugin answered OK. A failed call is counted
 * by status and not retried (its id stays unacknowledged: at-least-once promises nothing for it). `address` is read
 * for every new connection, so a scenario can move the load to a restarted plugin.
 */
export function publishLoad(options: {
  address: () => string;
  topic: string;
  ledger: Ledger;
  callers?: number;
  deadlineMs?: number;
  /** Pause between one caller's calls (0: as fast as answers come). */
  pauseMs?: number;
  payloadBytes?: number;
  /** Start of every message id (default: the scenario's name); loads sharing a ledger need their own. */
  idPrefix?: string;
}): PublishLoad {
  const { topic, ledger, callers = 8, deadlineMs = 5_000, pauseMs = 0, payloadBytes = 100, idPrefix = ledger.scenario } = options;
  const outcomes: Outcome[] = [];
  let hung = 0;
  let stopped = false;
  let seq = 0;
  const caller = async (n: number) => {
    let address = options.address();
    let c: Client = client(address, QUEUE);
    while (!stopped) {
      if (options.address() !== address) {
        c.close();
        address = options.address();
        c = client(address, QUEUE);
      }
      const id = `${idPrefix}-${String(n)}-${String(seq++)}`;
      ledger.send(id);
      const started = Date.now();
      try {
        const at = await call<{ topic: string; partition: number; offset: string }>(c, 'Publish', { topic, message_id: id, payload: Buffer.alloc(payloadBytes, id) }, { deadlineMs });
        // Where the record went, so the books can tell a skip (the committed offset passed it) from a delivery.
        ledger.ack(id, at.offset === '' ? undefined : { topic: at.topic, partition: at.partition, offset: BigInt(at.offset) });
        outcomes.push({ at: Date.now(), ok: true, ms: Date.now() - started });
      } catch (err) {
        ledger.fail(err);
        outcomes.push({ at: Date.now(), ok: false, ms: Date.now() - started });
        await sleep(100);
      }
      if (Date.now() - started > deadlineMs + 1_000) hung += 1;
      if (pauseMs > 0) await sleep(pauseMs);
    }
    c.close();
  };
  const running = Promise.all(Array.from({ length: callers }, (_, n) => caller(n)));
  return {
    outcomes,
    get hung() {
      return hung;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

interface QueueMessage { message_id: string; receipt: string }
interface Subscription { c: Client; stream: StreamReader<QueueMessage>; pending: QueueMessage[]; acking: Promise<void> }

export interface ConsumeLoad {
  /** Streams opened (1 + reconnects). */
  readonly streams: number;
  /** Ack calls the plugin answered with fewer acknowledgements than receipts (receipts voided by a rebalance). */
  readonly partialAcks: number;
  stop(): Promise<void>;
}

/**
 * A Queue.Consume subscriber that acknowledges what it received in small batches and reconnects whenever its stream
 * ends or fails (to `address()`, read again at each reconnect). Deliveries go into the ledger; ids are marked
 * consumer-acked only after the plugin answered the Ack call.
 */
export function consumeLoad(options: {
  address: () => string;
  topic: string;
  group: string;
  ledger: Ledger;
  subscriberId?: string;
  ackEvery?: number;
  maxUnacked?: number;
}): ConsumeLoad {
  const { topic, group, ledger, subscriberId = 'fault-consumer', ackEvery = 50, maxUnacked = 500 } = options;
  let stopped = false;
  let streams = 0;
  let partialAcks = 0;

  const flush = (s: Subscription) => {
    const these = s.pending;
    s.pending = [];
    if (these.length === 0) return s.acking;
    s.acking = s.acking.then(async () => {
      try {
        const { acknowledged } = await call<{ acknowledged: number }>(s.c, 'Ack', { receipts: these.map((m) => m.receipt) }, { deadlineMs: 5_000 });
        // Receipts voided by a rebalance are answered but not counted: those messages come again by design, so the
        // batch counts as consumer-acked only when every receipt in it was acknowledged.
        if (acknowledged === these.length) for (const m of these) ledger.consumerAck(m.message_id);
        else partialAcks++;
      } catch {
        // Not acknowledged: these may be delivered again, which the ledger allows.
      }
    });
    return s.acking;
  };

  const loop = async () => {
    while (!stopped) {
      const c = client(options.address(), QUEUE);
      streams += 1;
      const s: Subscription = { c, pending: [], acking: Promise.resolve(), stream: undefined as unknown as StreamReader<QueueMessage> };
      s.stream = new StreamReader<QueueMessage>(c, 'Consume', { topic, group, subscriber_id: subscriberId, max_unacked: maxUnacked }, (m) => {
        ledger.deliver(m.message_id);
        s.pending.push(m);
        if (s.pending.length >= ackEvery) void flush(s);
      });
      // A stream to a plugin that is gone rejects `ready`; the loop below sees the error and reconnects.
      s.stream.ready.catch(() => undefined);
      const ticker = setInterval(() => void flush(s), 100);
      while (!stopped && !s.stream.ended && s.stream.error === undefined) await sleep(50);
      clearInterval(ticker);
      await flush(s);
      s.stream.cancel();
      c.close();
      if (!stopped) await sleep(250);
    }
  };
  const running = loop();
  return {
    get streams() {
      return streams;
    },
    get partialAcks() {
      return partialAcks;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** Waits until every acknowledged id was delivered, or the timeout passed; returns the ids still missing. */
export async function awaitDelivery(ledger: Ledger, timeoutMs: number): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  let missing = ledger.missing();
  while (missing.length > 0 && Date.now() < end) {
    await sleep(250);
    missing = ledger.missing();
  }
  return missing;
}

/** Seconds from `since` to the first successful publish after it (undefined when none succeeded). */
export function recoverySeconds(outcomes: Outcome[], since: number): number | undefined {
  const first = outcomes.find((o) => o.ok && o.at >= since);
  return first === undefined ? undefined : Math.round((first.at - since) / 100) / 10;
}
