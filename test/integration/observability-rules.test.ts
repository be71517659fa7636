import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, type CallOptions, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { kafkaAdmin, type KafkaAdmin } from '../support/kafka-admin.ts';
import { startPluginProcess, type PluginProcess } from '../support/plugin-process.ts';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.ts';
import { alertRules, dashboard, observabilityDir, panelsOf, substitute, withoutThresholds } from '../unit/observability/rules.ts';

interface QueueMessage { partition: number; offset: string; receipt: string }

const name = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const namespace = 'rules-test';
const topic = name('rules');
/** A topic whose brokers refuse records over 1 KiB: publishing 4 KiB of random (incompressible) bytes to it is a real delivery error. */
const small = name('rules-small');
const group = name('rules-g');

/**
 * A stand-in for Vault's HTTP API that hands out leased Kafka credentials (the local OpenBao has no secrets engine
 * that leases Kafka users, and prism_credential_ttl_seconds exists only for leased credentials). Token TTL 4 s, so
 * the plugin renews its token every ~2 s during the test (prism_credential_renewals_total); the lease lasts 15 min.
 */
function fakeVault(username: string, password: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/\?.*$/, '');
    const reply = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    req.resume();
    if (path === '/v1/auth/token/lookup-self') reply({ data: { ttl: 4, renewable: true } });
    else if (path === '/v1/auth/token/renew-self') reply({ auth: { client_token: 'fake', lease_duration: 4, renewable: true } });
    else if (path === '/v1/secret/kafka') reply({ lease_id: 'kafka/creds/prism/1', lease_duration: 900, renewable: true, data: { username, password } });
    else if (path === '/v1/sys/leases/renew') reply({ lease_id: 'kafka/creds/prism/1', lease_duration: 900, renewable: true });
    else if (path === '/v1/sys/leases/revoke') res.writeHead(204).end();
    else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [`no route ${path}`] }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let vault: Server;
let admin: KafkaAdmin;
let plugin: PluginProcess;
let prometheus: PrometheusServer;
let queue: Client;
let stream: Client;

beforeAll(async () => {
  admin = kafkaAdmin(inject('kafkaBrokers'));
  await Promise.all([admin.createTopic(topic, { partitions: 3 }), admin.createTopic(small, { partitions: 1, configs: { 'max.message.bytes': '1024' } })]);
  vault = await fakeVault(inject('kafkaAdminUser'), readFileSync(inject('kafkaAdminPasswordFile'), 'utf8').trim());
  plugin = await startPluginProcess({
    KAFKA_BROKERS: inject('kafkaSaslBrokers'), PRISM_LOG_LEVEL: 'info', PRISM_NAMESPACE: namespace,
    VAULT_ENABLED: 'true', VAULT_ADDR: `http://127.0.0.1:${(vault.address() as AddressInfo).port}`, VAULT_AUTH_METHOD: 'token', VAULT_TOKEN: 'fake', VAULT_PATH: 'secret/kafka', VAULT_RENEW_MARGIN: '1s',
  });
  queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  stream = client(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  prometheus = await startPrometheus(plugin.address, { ruleFiles: [`${observabilityDir}alerts.yaml`] });
});
afterAll(async () => {
  queue?.close();
  stream?.close();
  await prometheus?.close();
  plugin?.child.kill('SIGTERM');
  await plugin?.exited;
  vault?.close();
  await admin?.deleteTopics([topic, small, `${topic}.dlq`]).catch(() => undefined);
  await admin?.close();
});

/** One round of traffic: publishes, a delivery error, Tails, a redelivery, a dead letter and acks. */
async function round(consumer: StreamReader<QueueMessage>): Promise<void> {
  const before = consumer.received.length;
  const { results } = await call<{ results: { success: boolean }[] }>(queue, 'PublishBatch', {
    messages: Array.from({ length: 9 }, (_, i) => ({ topic, partition: i % 3, payload: Buffer.from(`m${i}`) })),
  }, { deadlineMs: 30_000 });
  expect(results.every((r) => r.success)).toBe(true);
  await expect(call(queue, 'Publish', { topic: small, payload: randomBytes(4096) })).rejects.toThrow();
  // Tails that run into a 1 s deadline (failures the error ratio counts) and one the client cancels. The server
  // records a deadline-ended stream as CANCELLED when the client's cancel arrives before its own deadline passes,
  // so several run: at least one comes out DEADLINE_EXCEEDED.
  const tails = [...Array.from({ length: 4 }, () => openTail(Date.now() + 1_000)), openTail(undefined)];
  const fresh = (await consumer.waitFor(before + 9, 10_000)).slice(before);
  expect(fresh.length).toBeGreaterThanOrEqual(9);
  // One nacked for redelivery (it comes again and stays unacknowledged), one dead-lettered, the rest acknowledged.
  await call(queue, 'Nack', { receipts: [fresh[0]!.receipt], requeue: true });
  await call(queue, 'Nack', { receipts: [fresh[1]!.receipt], requeue: false, reason: 'test' });
  await call(queue, 'Ack', { receipts: fresh.slice(2).map((m) => m.receipt) });
  await sleep(300);
  tails.at(-1)!.tail.cancel();
  await Promise.all(tails.map((t) => t.ended));
}

/** A Tail from the earliest offset; ends at `deadline` when given. */
function openTail(deadline: number | undefined) {
  const method = (stream as unknown as Record<string, (req: unknown, md: Metadata, o: CallOptions) => ClientReadableStream<unknown>>).Tail!;
  const tail = method.call(stream, { topic, start: 'earliest' }, new Metadata(), deadline === undefined ? {} : { deadline });
  const ended = new Promise<void>((resolve) => {
    tail.on('data', () => undefined);
    tail.on('error', () => resolve());
    tail.on('end', () => resolve());
  });
  return { tail, ended };
}

describe('the alert rules and the dashboard, evaluated by a real Prometheus against the running plugin', () => {
  it('every alert expression and every panel query returns series', async () => {
    const t0 = Date.now();
    // Scraped before any traffic: counters that start at 0 show their first increments in rate().
    for (const until = Date.now() + 10_000; !(await prometheus.query('kafka_plugin_build_info')).length && Date.now() < until;) await sleep(200);
    // Open until the end: prism_queue_unacked exists for open subscriptions only.
    const consumer = new StreamReader<QueueMessage>(queue, 'Consume', { topic, group, subscriber_id: name('rules-w'), max_unacked: 100 });
    try {
      await consumer.ready;
      await sleep(1_200);
      await round(consumer);
      await sleep(1_200);
      await round(consumer);
      // The last round scraped (1 s interval) and rules evaluated (1 s); the lag is read every 5 s, so wait for it.
      await sleep(2_000);
      for (const until = Date.now() + 10_000; (await prometheus.query(`prism_consumer_lag{group="${group}"}`)).length < 3 && Date.now() < until;) await sleep(250);
      // deriv() in the lag alert needs two samples.
      await sleep(2_000);
      console.log(`load done after ${Date.now() - t0} ms (${consumer.received.length} deliveries)`);
      await evaluateEverything(t0);
    } finally {
      consumer.cancel();
    }
  });
});

/** Evaluates every alert expression (thresholds removed) and every dashboard target; fails naming the empty ones. */
async function evaluateEverything(t0: number): Promise<void> {
  const empty: string[] = [];
  const checked: string[] = [];
  for (const rule of alertRules()) {
    const expr = withoutThresholds(rule.expr);
    if ((await prometheus.query(expr)).length === 0) empty.push(`alert ${rule.alert}: ${expr}`);
    checked.push(rule.alert);
  }
  const d = dashboard();
  const values = { namespace, __rate_interval: '1m' };
  const quantiles: Record<string, number> = {};
  for (const p of panelsOf(d)) {
    for (const t of p.targets ?? []) {
      const expr = substitute(t.expr, values);
      const result = await prometheus.query(expr);
      if (result.length === 0) empty.push(`panel "${p.title}": ${expr}`);
      if (expr.startsWith('histogram_quantile')) quantiles[`${p.title}`] = result.filter((r) => r.value[1] !== 'NaN').length;
      checked.push(p.title);
    }
  }
  console.log(`${checked.length} expressions evaluated in ${Date.now() - t0} ms; non-NaN quantile series: ${JSON.stringify(quantiles)}`);
  expect(empty).toEqual([]);
  // Quantiles over real observations, not only NaN from idle buckets.
  for (const [title, n] of Object.entries(quantiles)) expect(n, title).toBeGreaterThan(0);
  // The namespace variable's query (Grafana's label_values) through the same API.
  const labels = await fetch(`${prometheus.url}/api/v1/label/namespace/values?match[]=kafka_plugin_build_info`).then((r) => r.json() as Promise<{ data: string[] }>);
  expect(labels.data).toEqual([namespace]);
  // Prometheus loaded and evaluated every rule without error.
  const rules = await prometheus.rules();
  expect(rules.map((r) => r.name).sort()).toEqual(alertRules().map((r) => r.alert).sort());
  expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
}
