import type { Client } from '@grpc/grpc-js';
import { call, client, StreamReader } from '../../support/grpc-client.ts';
import type { Ledger } from './ledger.ts';

const QUEUE = 'prism.interfaces.queue.QueueBasicInterface';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface QueueMessage { message_id: string; receipt: string }

export interface AckingConsumer {
  /** Streams opened (1 + reconnects). */
  readonly streams: number;
  /** Ack calls the plugin answered with fewer acknowledgements than receipts (receipts voided by a rebalance). */
  readonly partialAcks: number;
  stop(): Promise<void>;
}

/**
 * A Queue.Consume subscriber for plugins that come and go (like load.ts's consumeLoad, which it follows): acknowledges
 * in delivery order in batches, reconnects to `address()` whenever its stream ends or fails. Stricter in two ways:
 * an id counts as consumer-acknowledged only when the plugin answered its Ack *and* acknowledged every receipt of the
 * batch (a receipt voided by a rebalance is answered OK but counted 0, and its message comes again by design); and a
 * stream that fails before its headers does not leave an unhandled rejection behind.
 */
export function ackingConsumer(options: {
  address: () => string;
  topic: string;
  group: string;
  ledger: Ledger;
  subscriberId: string;
  ackEvery?: number;
  maxUnacked?: number;
}): AckingConsumer {
  const { topic, group, ledger, subscriberId, ackEvery = 50, maxUnacked = 500 } = options;
  let stopped = false;
  let streams = 0;
  let partialAcks = 0;

  const loop = async () => {
    while (!stopped) {
      const c: Client = client(options.address(), QUEUE);
      streams += 1;
      let pending: QueueMessage[] = [];
      let acking = Promise.resolve();
      const flush = () => {
        const these = pending;
        pending = [];
        if (these.length === 0) return acking;
        acking = acking.then(async () => {
          try {
            const r = await call<{ acknowledged: number }>(c, 'Ack', { receipts: these.map((m) => m.receipt) }, { deadlineMs: 5_000 });
            if (r.acknowledged === these.length) for (const m of these) ledger.consumerAck(m.message_id);
            else partialAcks++;
          } catch {
            // Not acknowledged: these may be delivered again, which the ledger allows.
          }
        });
        return acking;
      };
      const stream = new StreamReader<QueueMessage>(c, 'Consume', { topic, group, subscriber_id: subscriberId, max_unacked: maxUnacked }, (m) => {
        ledger.deliver(m.message_id);
        pending.push(m);
        if (pending.length >= ackEvery) void flush();
      });
      stream.ready.catch(() => undefined);
      const ticker = setInterval(() => void flush(), 100);
      while (!stopped && !stream.ended && stream.error === undefined) await sleep(50);
      clearInterval(ticker);
      await flush();
      stream.cancel();
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
