import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { startPluginProcess } from '../support/plugin-process.ts';
import { streamClient, unaryCall } from '../support/stream-client.ts';
import { describeGroup, lagging, readDeadLetters, type GroupPartition } from './support/group-audit.ts';
import { Ledger } from './support/ledger.ts';
import { StormStream } from './support/storm-consumer.ts';

/**
 * Issue #15, the reported skip, as its own short scenario: five messages are held unacknowledged while another
 * member joins the group on another topic; then the five are nacked with requeue and everything else is acked.
 * Whatever the group does with the first member's partition, the committed offset must not pass the five until
 * they are acked: the books (test/faults/support/ledger.ts) check it against kafka-consumer-groups.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (ok: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end;) await sleep(50);
  return ok();
};

describe('fault: messages held unacknowledged across a membership change', () => {
  it('5 held on a 1-partition topic, a member joins on another topic, the 5 nacked with requeue: none skipped', async () => {
    const id = randomUUID().slice(0, 8);
    const group = `faults-held-g-${id}`;
    const [held, other] = [`faults-held-${id}-a`, `faults-held-${id}-b`];
    const brokers = inject('kafkaBrokers');
    const ledger = new Ledger('rebalance-held');
    const plugin = await startPluginProcess({ KAFKA_BROKERS: brokers });
    const q = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
    const streams: StormStream[] = [];
    let seq = 0;
    const publish = async (topic: string, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const m = `held-${String(seq++)}`;
        ledger.send(m);
        const at = await call<{ topic: string; partition: number; offset: string }>(q, 'Publish', { topic, message_id: m, payload: Buffer.from(m) });
        ledger.ack(m, { topic: at.topic, partition: at.partition, offset: BigInt(at.offset) });
        ids.push(m);
      }
      return ids;
    };
    try {
      const s = streamClient(plugin.address);
      for (const topic of [held, other]) await unaryCall(s, 'CreateStream', { topic, partitions: 1, replication_factor: 1 });
      s.close();
      const first = await publish(held, 20);
      const hold = new Set(first.slice(0, 5));
      const open = (topic: string, subscriberId: string) => {
        const stream = new StormStream({
          address: plugin.address, plugin: 0, topic, group, subscriberId, maxUnacked: 100, ledger,
          decide: (m) => (hold.has(m.id) && m.attempt === 1 ? { do: 'hold', ms: 600_000 } : { do: 'ack' }),
        });
        streams.push(stream);
        return stream;
      };
      const holder = open(held, `held-a-${id}`);
      expect(await until(() => holder.held === 5 && ledger.consumerAcked.size === 15, 30_000), `held ${String(holder.held)}, acked ${String(ledger.consumerAcked.size)}`).toBe(true);

      // The membership change: a second member of the same group, on the other topic, consuming what is there.
      await publish(other, 5);
      const joiner = open(other, `held-b-${id}`);
      const joined = await until(() => joiner.deliveries >= 5, 30_000);
      await sleep(2_000);
      holder.release({ do: 'requeue' });
      await publish(held, 20);
      await publish(other, 5);
      for (const stream of streams) stream.drain();

      let rows: GroupPartition[] = [];
      for (const end = Date.now() + 30_000; Date.now() < end; await sleep(1_000)) {
        rows = await describeGroup(brokers, group);
        if (lagging(rows, [held, other], 1).length === 0 && ledger.missing().length === 0) break;
      }
      await Promise.all(streams.map((stream) => stream.leave()));
      rows = await describeGroup(brokers, group);
      const dead = (await Promise.all([held, other].map((t) => readDeadLetters(brokers, `${t}.dlq`)))).flat();
      ledger.audit(rows, dead.map((d) => d.id));
      const lag = lagging(rows, [held, other], 1);
      const unsettled = [...ledger.acked].filter((m) => !ledger.settledByConsumer(m));
      Object.assign(ledger.extra, { joined: String(joined), voided_acks: holder.voided, lagging_partitions: lag.length, unsettled: unsettled.length });
      const report = ledger.publish();

      expect(ledger.skipped(), 'passed by the committed offset, never acked nor dead-lettered').toEqual([]);
      expect(report.lost).toBe(0);
      expect(lag).toEqual([]);
      expect(unsettled).toEqual([]);
      expect(joined, 'the second member received its topic').toBe(true);
    } finally {
      for (const stream of streams) stream.vanish();
      q.close();
      plugin.child.kill('SIGKILL');
      await plugin.exited;
    }
  }, 120_000);
});
