import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { requireTool, startPrometheus, type PrometheusServer } from '../support/prometheus.ts';

interface QueueMessage { partition: number; offset: string; receipt: string }

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The backlog: records per partition, published before anyone consumes. */
const backlog = [20, 15, 5];
/** How many of each partition's first records the subscriber acknowledges (partition 2: none; only its start is committed). */
const acked = [5, 4, 0];
const topic = name('obs-lag');
const group = name('obs-g');
let plugin: PluginProcess;
let queue: Client;
let lifecycle: Client;
let consumer: StreamReader<QueueMessage>;
let prometheus: PrometheusServer | undefined;

/** The plugin as it runs in production: its own process, Node process metrics included. */
beforeAll(async () => {
  plugin = await startPluginProcess({ KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_LOG_LEVEL: 'info', PRISM_NAMESPACE: 'observability' });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  lifecycle = client(plugin.address, 'prism.interfaces.LifecycleInterface');
  const { results } = await call<{ results: { success: boolean }[] }>(queue, 'PublishBatch', {
    messages: backlog.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ topic, partition, payload: Buffer.from(`p${partition}-${i}`) }))),
  }, { deadlineMs: 30_000 });
  expect(results.every((r) => r.success)).toBe(true);
  // A subscription that received everything and acknowledged the first records of partitions 0 and 1 only.
  consumer = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: name('obs-worker'), max_unacked: 100 });
  const all = await consumer.waitFor(40);
  expect(all).toHaveLength(40);
  const receipts = all.filter((m) => Number(m.offset) < acked[m.partition]!).map((m) => m.receipt);
  expect(receipts).toHaveLength(9);
  await call(queue, 'Ack', { receipts });
});
afterAll(async () => {
  consumer?.cancel();
  queue?.close();
  lifecycle?.close();
  await prometheus?.close();
  plugin?.child.kill('SIGTERM');
  await plugin?.exited;
});

const scrape = async () => (await fetch(`http://${plugin.address}/metrics`)).text();
/** Values of one metric's series whose labels include `match`, keyed by the remaining label text. */
function series(text: string, metric: string, match: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) out.set(labels.partition ?? m[1]!, Number(m[2]));
  }
  return out;
}

describe('metrics, read by clients nobody here wrote', () => {
  it('prism_consumer_lag matches kafka-consumer-groups --describe, partition by partition', async () => {
    const expected = backlog.reduce((a, b) => a + b) - acked.reduce((a, b) => a + b);
    let lag = new Map<string, number>();
    const until = Date.now() + 15_000;
    // The lag is refreshed every 5 s; wait for the reading taken after the ack.
    while (Date.now() < until) {
      lag = series(await scrape(), 'prism_consumer_lag', { group, topic });
      if ([...lag.values()].reduce((a, b) => a + b, 0) === expected) break;
      await sleep(250);
    }
    const { stdout } = await run('bash', [`${root}/scripts/infra/kafka-tool.sh`, 'kafka-consumer-groups', '--bootstrap-server', inject('kafkaBrokers'), '--describe', '--group', group], { timeout: 60_000 });
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    const rows = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c[0] === group && c[1] === topic);
    const cli = new Map(rows.map((c) => [c[2]!, { current: c[3]!, end: c[4]!, lag: c[5]! }]));
    console.log(`consumer lag of ${group} on ${topic}: metric ${JSON.stringify(Object.fromEntries(lag))}; kafka-consumer-groups --describe ${JSON.stringify(Object.fromEntries(cli))}`);
    expect(cli.size).toBe(3);
    // Partitions with a committed offset: the metric is the tool's LAG column.
    expect(lag.get('0')).toBe(Number(cli.get('0')!.lag));
    expect(lag.get('1')).toBe(Number(cli.get('1')!.lag));
    expect([lag.get('0'), lag.get('1')]).toEqual([15, 11]);
    // Nothing acknowledged: the member's first delivery committed where it started, with its attempt count (ADR 0005),
    // so the tool shows offset 0 and the same lag as the metric.
    expect(cli.get('2')).toEqual({ current: '0', end: '5', lag: '5' });
    expect(lag.get('2')).toBe(5);
    expect([...lag.values()].reduce((a, b) => a + b)).toBe(expected);

    const text = await scrape();
    expect(series(text, 'prism_queue_unacked', { topic }).get(`topic="${topic}",namespace="observability"`)).toBe(40 - 9);
    const hc = await call<{ details: Record<string, string> }>(lifecycle, 'HealthCheck', {});
    expect(hc.details.consumer_lag).toBe(String(expected));
  });

  it('promtool check metrics finds nothing to complain about in /metrics', async () => {
    const text = await scrape();
    // The output must include the labelled series too, not only the declarations.
    for (const present of ['prism_consumer_lag{', 'prism_queue_unacked{', 'kafka_plugin_messages_produced_total{', 'prism_request_duration_seconds_bucket{', 'nodejs_eventloop_lag_seconds']) expect(text).toContain(present);
    requireTool('promtool');
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output }));
      child.stdin.end(text);
    });
    expect(result).toEqual({ code: 0, output: '' });
  });

  it('a real Prometheus server scrapes the plugin and sees kafka_plugin_messages_produced_total rise', async () => {
    prometheus = await startPrometheus(plugin.address);
    const counted = name('obs-counted');
    const produced = async () => (await prometheus!.query('kafka_plugin_messages_produced_total')).find((r) => r.metric.topic === counted);
    const waitForValue = async (want: string) => {
      const until = Date.now() + 10_000;
      for (;;) {
        const found = await produced();
        if (found?.value[1] === want || Date.now() > until) return found;
        await sleep(200);
      }
    };
    const t0 = Date.now();
    await call(queue, 'Publish', { topic: counted, payload: Buffer.from('one') });
    const first = await waitForValue('1');
    const t1 = Date.now();
    await call(queue, 'PublishBatch', { messages: Array.from({ length: 4 }, (_, i) => ({ topic: counted, payload: Buffer.from(`m${i}`) })) });
    const second = await waitForValue('5');
    const t2 = Date.now();
    console.log(`prometheus saw the counter at 1 after ${t1 - t0} ms and at 5 after ${t2 - t1} ms more`);
    expect(first?.value[1]).toBe('1');
    expect(second?.value[1]).toBe('5');
    expect(second?.metric).toMatchObject({ job: 'prism-kafka-plugin', instance: plugin.address, namespace: 'observability' });
    const targets = await prometheus.targets();
    expect(targets).toEqual([expect.objectContaining({ health: 'up', lastError: '', scrapeUrl: `http://${plugin.address}/metrics` })]);
  });
});
