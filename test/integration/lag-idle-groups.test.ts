import { randomUUID } from 'node:crypto';
import type { Client } from '@grpc/grpc-js';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { kafkaAdmin, type KafkaAdmin } from '../support/kafka-admin.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';

interface QueueMessage { partition: number; offset: string; receipt: string }

const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const topic = name('lag-idle');
/** Served here: a Consume stream joins it, acknowledges some, and goes away. */
const served = name('lag-served');
/** Configured (KAFKA_CONSUMER_GROUP) and committed from outside: no subscription of it ever opens in this plugin. */
const configured = name('lag-configured');
let admin: KafkaAdmin;
let other: kafkajs.Admin;
let plugin: PluginProcess;
let queue: Client;

beforeAll(async () => {
  const brokers = inject('kafkaBrokers');
  admin = kafkaAdmin(brokers);
  await admin.createTopic(topic, { partitions: 2 });
  // A client that is not the plugin commits the configured group's offsets (an empty group may be set from outside).
  other = new kafkajs.Kafka({ clientId: 'lag-test', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin();
  await other.connect();
  await other.setOffsets({ groupId: configured, topic, partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
  plugin = await startPluginProcess({ KAFKA_BROKERS: brokers, KAFKA_CONSUMER_GROUP: configured, KAFKA_TOPIC: topic, PRISM_LOG_LEVEL: 'info', PRISM_NAMESPACE: 'lag-idle' });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
});
afterAll(async () => {
  queue?.close();
  plugin?.child.kill('SIGTERM');
  await plugin?.exited;
  await other?.disconnect();
  await admin?.deleteTopics([topic]).catch(() => undefined);
  await admin?.close();
});

/** Publishes `counts[p]` records to each partition p. */
async function publish(counts: number[]): Promise<void> {
  const messages = counts.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ topic, partition, payload: Buffer.from(`p${partition}-${i}`) })));
  const { results } = await call<{ results: { success: boolean }[] }>(queue, 'PublishBatch', { messages }, { deadlineMs: 30_000 });
  expect(results.every((r) => r.success)).toBe(true);
}

/** prism_consumer_lag of `group` on the topic, by partition, as one scrape of /metrics reads it. */
async function lagOf(group: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${plugin.address}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^prism_consumer_lag\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (labels.group === group && labels.topic === topic) out[labels.partition!] = Number(m[2]);
  }
  return out;
}

/** Scrapes until `check` holds for the lag of `group` (the lag is re-read every 5 s); returns the last reading. */
async function waitForLag(group: string, check: (lag: Record<string, number>) => boolean, timeoutMs = 15_000): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const lag = await lagOf(group);
    if (check(lag) || Date.now() > until) return lag;
    await sleep(250);
  }
}

describe('prism_consumer_lag after the last member left', () => {
  it('keeps the served and the configured group reported, growing with the log, until the served group is deleted', async () => {
    await publish([6, 6]);
    const consumer = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group: served, subscriber_id: name('lag-worker'), max_unacked: 100 });
    const all = await consumer.waitFor(12);
    expect(all).toHaveLength(12);
    // Everything of partition 0, the first two of partition 1.
    await call(queue, 'Ack', { receipts: all.filter((m) => m.partition === 0 || Number(m.offset) < 2).map((m) => m.receipt) });
    const open = await waitForLag(served, (l) => l['0'] === 0 && l['1'] === 4);
    expect(open).toEqual({ '0': 0, '1': 4 });

    consumer.cancel();
    // The subscription is gone once its unacked series is (only open subscriptions have one).
    const until = Date.now() + 10_000;
    while (Date.now() < until && (await (await fetch(`http://${plugin.address}/metrics`)).text()).includes(`prism_queue_unacked{topic="${topic}"`)) await sleep(100);
    expect(await lagOf(served)).toEqual({ '0': 0, '1': 4 });

    const t0 = Date.now();
    await publish([5, 3]);
    const grown = await waitForLag(served, (l) => l['0'] === 5 && l['1'] === 7);
    console.log(`lag of the idle served group followed the new records within ${Date.now() - t0} ms: ${JSON.stringify(grown)}`);
    expect(grown).toEqual({ '0': 5, '1': 7 });
    // The configured group, never subscribed here: end − the offsets committed from outside.
    expect(await waitForLag(configured, (l) => l['0'] === 11 && l['1'] === 9)).toEqual({ '0': 11, '1': 9 });

    // The one reason an idle group is dropped: it has no committed offsets any more.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await other.deleteGroups([served]);
        break;
      } catch (err) {
        // The member's leave may still be in flight: the broker refuses to delete a group that is not empty.
        if (Date.now() > deadline) throw err;
        await sleep(300);
      }
    }
    expect(await waitForLag(served, (l) => Object.keys(l).length === 0)).toEqual({});
    expect(await lagOf(configured)).toEqual({ '0': 11, '1': 9 });
  });
});
