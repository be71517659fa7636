// `npm run bench [-- --quick] [-- --only publish,consume,tail,query,function,bundle]`
//
// Runs every scenario through the plugin (gRPC adapter in a child process, from dist/server.mjs) and its direct
// baseline in the same run, alternating them round by round; prints a table and writes bench/results/<time>.json.
// Targets are reported, never asserted. Brings the local broker up when 127.0.0.1:9092 does not answer.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, ProduceAcks, Producer, type Message } from '@platformatic/kafka';
import type { Client } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { call, client as grpcClient, StreamReader } from '../test/support/grpc-client.ts';
import { spawnNode, type Spawned } from '../test/support/process.ts';
import { closedLoop, withCpu, fmt, killChildren, median, memoryOf, now, openLoop, quantile, sleep, summary, track, type LoadResult } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice(7) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const only = new Set((onlyArg ?? 'publish,consume,tail,query,function,bundle').split(','));
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const runId = randomUUID().slice(0, 8);

const P = quick
  ? { rounds: 2, publishMs: 500, sizes: [100, 1024], callers: [1, 64], perfRecords: { 100: 50_000, 1024: 20_000 }, halfLoadMs: 1000, consumeRecords: 10_000, tailMs: 1500, queryRecords: 100_000, fnPerRound: 60 }
  : { rounds: 3, publishMs: 1500, sizes: [100, 1024], callers: [1, 16, 64], perfRecords: { 100: 500_000, 1024: 150_000 }, halfLoadMs: 2500, consumeRecords: 50_000, tailMs: 4000, queryRecords: 100_000, fnPerRound: 300 };

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Infrastructure

function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(',')[0]!.split(':') as [string, string];
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port), timeout: 1000 }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

async function ensureBroker(): Promise<void> {
  if (await reachable(brokers)) return;
  if (process.env.KAFKA_BROKERS !== undefined) throw new Error(`KAFKA_BROKERS=${brokers} does not answer`);
  log('starting the local broker (scripts/infra/up.sh)');
  execFileSync('bash', [join(root, 'scripts/infra/up.sh')], { stdio: ['ignore', process.stderr, 'inherit'] });
}

const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [brokers] });
async function newTopic(name: string): Promise<string> {
  const topic = `bench-${runId}-${name}`;
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.metadata({ topics: [topic] });
  return topic;
}

function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(join(root, '.cache/infra/kafka/kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

const directProducer = (id: string) => new Producer({ clientId: `bench-${id}`, bootstrapBrokers: [brokers], acks: ProduceAcks.ALL, idempotent: true, compression: 'none' });

async function startPlugin(): Promise<Spawned & { address: string; pid: number }> {
  const profile = args.includes('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/results/profiles')}`] : [];
  // Node flags as in the container image's entrypoint.
  const p = spawnNode([...profile, '--max-semi-space-size=8', join(root, 'dist/server.mjs')], {
    cwd: root,
    env: { KAFKA_BROKERS: brokers, KAFKA_COMPRESSION: 'none', PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', PRISM_CONSUMER_MAX_UNACKED: '2000' },
  });
  track(p.child);
  const line = await p.waitForLog('kafka plugin initialized', 30_000);
  return Object.assign(p, { address: `127.0.0.1:${String(line.port)}`, pid: p.child.pid! });
}

// ---------------------------------------------------------------------------------------------------------------
// Results

interface Row { scenario: string; path: string; metric: Record<string, ReturnType<typeof summary>>; note?: string }
const rows: Row[] = [];
const extra: Record<string, unknown> = {};
function addRow(scenario: string, path: string, results: Record<string, number[]>, note?: string): Record<string, number> {
  const metric = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summary(v)]));
  rows.push({ scenario, path, metric, ...(note === undefined ? {} : { note }) });
  return Object.fromEntries(Object.entries(metric).map(([k, v]) => [k, v.median]));
}
const loadRow = (scenario: string, path: string, rs: LoadResult[], note?: string) => addRow(scenario, path, {
  'rec/s': rs.map((r) => r.recordsPerSec),
  'MB/s': rs.map((r) => r.mbPerSec),
  'p50 ms': rs.map((r) => r.p50Ms),
  'p99 ms': rs.map((r) => r.p99Ms),
  ...(rs[0]?.cpu === undefined ? {} : Object.fromEntries(Object.keys(rs[0].cpu).map((k) => [`cpu% ${k}`, rs.map((r) => r.cpu![k]!)]))),
}, note ?? (rs.some((r) => r.errors > 0) ? `${rs.reduce((a, r) => a + r.errors, 0)} errors` : undefined));

// ---------------------------------------------------------------------------------------------------------------
// 1. Publish

const grpcPublish = (c: Client, topic: string, payload: Buffer) => async () => {
  const res = await call<{ offset: string }>(c, 'Publish', { topic, payload });
  if (res.offset === '') throw new Error('no offset');
  return 1;
};

/** PublishBatch: the gateway's throughput path (one call carries many records; each gets its own result). */
const grpcPublishBatch = (c: Client, topic: string, payload: Buffer, n: number) => {
  const messages = Array.from({ length: n }, () => ({ topic, payload }));
  return async () => {
    const { results } = await call<{ results: { success: boolean }[] }>(c, 'PublishBatch', { messages });
    if (results.length !== n || !results.every((r) => r.success)) throw new Error('a record was not acknowledged');
    return n;
  };
};

async function perfTest(topic: string, size: number, records: number): Promise<{ recordsPerSec: number; mbPerSec: number; p50Ms: number; p99Ms: number } | undefined> {
  try {
    const out = execFileSync('bash', [join(root, 'scripts/infra/kafka-tool.sh'), 'kafka-producer-perf-test', '--topic', topic, '--num-records', String(records), '--record-size', String(size), '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'compression.type=none'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const last = out.trim().split('\n').filter((l) => l.includes('records sent')).pop() ?? '';
    const m = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 50th.*?(\d+) ms 99th/.exec(last);
    if (m === null) throw new Error(`unexpected output: ${last}`);
    return { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]) * 1.048576, p50Ms: Number(m[3]), p99Ms: Number(m[4]) };
  } catch (err) {
    log(`kafka-producer-perf-test failed: ${String(err).slice(0, 300)}`);
    return undefined;
  }
}

async function publishScenario(plugin: { address: string; pid: number }): Promise<Record<string, number>> {
  const key: Record<string, number> = {};
  const pids = { bench: process.pid, plugin: plugin.pid, broker: brokerPid() };
  const grpc = grpcClient(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
  const direct = directProducer('direct');
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [brokers], logLevel: logLevel.NOTHING });
  const kjs = kafka.producer({ allowAutoTopicCreation: false });
  await kjs.connect();
  try {
    for (const size of P.sizes) {
      const topic = await newTopic(`pub-${size}`);
      const payload = Buffer.alloc(size, 120);
      const batch = Array.from({ length: size <= 100 ? 1000 : 250 }, () => ({ topic, value: payload }));
      const kjsBatch = batch.map(() => ({ value: payload }));
      const paths: [string, (callers: number) => () => Promise<number>, number[]][] = [
        ['gRPC Publish (plugin process)', () => grpcPublish(grpc, topic, payload), P.callers],
        [`gRPC PublishBatch of ${batch.length} (plugin process)`, () => grpcPublishBatch(grpc, topic, payload, batch.length), [1, 4]],
        ['@platformatic/kafka, 1 record/call', () => async () => { await direct.send({ messages: [{ topic, value: payload }] }); return 1; }, P.callers],
        ['kafkajs 2.2.4, 1 record/call', () => async () => { await kjs.send({ topic, acks: -1, messages: [{ value: payload }] }); return 1; }, P.callers],
        [`@platformatic/kafka, batches of ${batch.length}`, () => async () => { await direct.send({ messages: batch }); return batch.length; }, [1, 4]],
        [`kafkajs 2.2.4, batches of ${batch.length}`, () => async () => { await kjs.send({ topic, acks: -1, messages: kjsBatch }); return batch.length; }, [1, 4]],
      ];
      // Warm-up: connections, metadata, JIT.
      for (const [, mk] of paths) await closedLoop(mk(4), 4, 300, size);
      const results = new Map<string, LoadResult[]>();
      for (let r = 0; r < P.rounds; r++) {
        log(`publish ${size} B round ${r + 1}/${P.rounds}`);
        for (const [name, mk, callers] of paths) {
          for (const c of callers) {
            const id = `${name}|${c}`;
            if (!results.has(id)) results.set(id, []);
            const { value, cpu } = await withCpu(pids, () => closedLoop(mk(c), c, P.publishMs, size));
            results.get(id)!.push({ ...value, cpu });
          }
        }
      }
      for (const [name, , callers] of paths) {
        for (const c of callers) {
          const m = loadRow(`publish ${size} B`, `${name}, ${c} caller${c > 1 ? 's' : ''}`, results.get(`${name}|${c}`)!);
          const kind = /batch/i.test(name) ? 'batch' : 'call';
          key[`${size}|${name.split(/,| of /)[0]}|${kind}|${c}`] = m['rec/s']!;
          key[`${size}|${name.split(/,| of /)[0]}|${kind}|${c}|p99`] = m['p99 ms']!;
        }
      }
      const perf = await perfTest(topic, size, P.perfRecords[size as 100 | 1024]);
      if (perf !== undefined) {
        addRow(`publish ${size} B`, `kafka-producer-perf-test (JVM, ceiling), ${P.perfRecords[size as 100 | 1024]} records`, { 'rec/s': [perf.recordsPerSec], 'MB/s': [perf.mbPerSec], 'p50 ms': [perf.p50Ms], 'p99 ms': [perf.p99Ms] }, 'single run (saturating, so its latency is queueing)');
        key[`${size}|perf`] = perf.recordsPerSec;
      }

      if (size === 100) {
        // Added latency at half of the plugin's measured maximum: the same fixed rate through gRPC and direct.
        const rate = Math.round(0.5 * key[`100|gRPC Publish (plugin process)|call|64`]!);
        log(`publish 100 B open loop at ${rate}/s`);
        const g: LoadResult[] = [];
        const d: LoadResult[] = [];
        for (let r = 0; r < P.rounds; r++) {
          const gr = await withCpu(pids, () => openLoop(grpcPublish(grpc, topic, payload), rate, P.halfLoadMs, size));
          g.push({ ...gr.value, cpu: gr.cpu });
          const dr = await withCpu(pids, () => openLoop(() => direct.send({ messages: [{ topic, value: payload }] }), rate, P.halfLoadMs, size));
          d.push({ ...dr.value, cpu: dr.cpu });
        }
        const gm = loadRow('publish 100 B, half load', `gRPC Publish at ${rate}/s (open loop)`, g);
        const dm = loadRow('publish 100 B, half load', `@platformatic/kafka 1 record/call at ${rate}/s (open loop)`, d);
        key.halfRate = rate;
        key.addedP99 = gm['p99 ms']! - dm['p99 ms']!;
        key.addedP50 = gm['p50 ms']! - dm['p50 ms']!;
      }
    }
    const mem = memoryOf(plugin.pid);
    const idle = extra.idleMemory as { rssMb: number; hwmMb: number };
    addRow('plugin process memory', 'after start-up, before any load (VmRSS)', { MB: [idle.rssMb] }, `VmHWM ${fmt(idle.hwmMb, 1)} MB; ${extra.idleHeap as string}`);
    key.peakRssMb = mem.hwmMb;
    const heap = await heapOf(plugin.address);
    extra.pluginHeapAfterPublish = heap;
    addRow('plugin process memory', 'VmHWM after the publish load (peak RSS)', { MB: [mem.hwmMb] }, `VmRSS now ${fmt(mem.rssMb, 1)} MB; ${heap}`);
  } finally {
    grpc.close();
    await direct.close();
    await kjs.disconnect();
  }
  return key;
}

/** V8 heap and external memory as the plugin's /metrics reports them (prom-client default metrics), if it does. */
async function heapOf(address: string): Promise<string> {
  try {
    const text = await (await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const mb = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
      return m === null ? '?' : fmt(Number(m[1]) / 1e6, 0);
    };
    return `heap used ${mb('nodejs_heap_size_used_bytes')} / total ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB (from /metrics)`;
  } catch (err) {
    return `heap: /metrics unavailable (${String(err).slice(0, 80)})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Consume with acks

async function fill(topic: string, count: number, size: number): Promise<void> {
  const p = directProducer('fill');
  const payload = Buffer.alloc(size, 97);
  try {
    const per = 2000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i += per) {
      sends.push(p.send({ messages: Array.from({ length: Math.min(per, count - i) }, () => ({ topic, value: payload })) }));
      if (sends.length >= 4) await sends.shift();
    }
    await Promise.all(sends);
  } finally {
    await p.close();
  }
}

interface ConsumeRun { recordsPerSec: number; joinMs: number }

async function grpcConsume(address: string, topic: string, count: number): Promise<ConsumeRun> {
  const c = grpcClient(address, 'prism.interfaces.queue.QueueBasicInterface');
  const started = now();
  let first = 0;
  let acked = 0;
  let pending: string[] = [];
  let inflight = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const receipts = pending;
    pending = [];
    inflight++;
    void call<{ acknowledged: number }>(c, 'Ack', { receipts }).then((res) => {
      inflight--;
      acked += res.acknowledged;
      if (acked >= count) resolveDone();
    }, (err: unknown) => log(`ack failed: ${String(err)}`));
  };
  const stream = new StreamReader<{ receipt: string }>(c, 'Consume', { topic, group: `bench-${randomUUID()}`, subscriber_id: `bench-${randomUUID()}`, max_unacked: 2000 }, (m) => {
    if (first === 0) first = now();
    pending.push(m.receipt);
    stream.received.length = 0;
    if (pending.length >= 200) flush();
    else timer ??= setTimeout(flush, 2);
  });
  try {
    await Promise.race([done, sleep(120_000).then(() => { throw new Error(`gRPC consume: ${acked}/${count} acked after 120 s (inflight acks ${inflight})`); })]);
    const end = now();
    return { recordsPerSec: count / ((end - first) / 1000), joinMs: first - started };
  } finally {
    stream.cancel();
    c.close();
  }
}

async function directConsume(topic: string, count: number, commit: boolean): Promise<ConsumeRun> {
  const consumer = new Consumer({ clientId: 'bench-consumer', bootstrapBrokers: [brokers], groupId: `bench-${randomUUID()}`, autocommit: false, maxWaitTime: 500, highWaterMark: 1024 });
  const started = now();
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let first = 0;
    let seen = 0;
    const commits: Promise<void>[] = [];
    let chunk = new Map<number, Message<Buffer, Buffer, Buffer, Buffer>>();
    for await (const m of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
      if (first === 0) first = now();
      seen++;
      if (commit) {
        chunk.set(m.partition, m);
        if (seen % 200 === 0 || seen >= count) {
          for (const last of chunk.values()) commits.push(last.commit() as Promise<void>);
          chunk = new Map();
        }
      }
      if (seen >= count) break;
    }
    await Promise.all(commits);
    const end = now();
    return { recordsPerSec: count / ((end - first) / 1000), joinMs: first - started };
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}

async function consumeScenario(plugin: { address: string }): Promise<Record<string, number>> {
  const topic = await newTopic('consume');
  log(`consume: filling ${P.consumeRecords} records`);
  await fill(topic, P.consumeRecords, 100);
  const g: ConsumeRun[] = [];
  const d: ConsumeRun[] = [];
  for (let r = 0; r < P.rounds; r++) {
    log(`consume round ${r + 1}/${P.rounds}`);
    g.push(await grpcConsume(plugin.address, topic, P.consumeRecords));
    d.push(await directConsume(topic, P.consumeRecords, true));
  }
  const note = 'from the first delivery to the last ack (group join excluded)';
  const gm = addRow(`consume ${P.consumeRecords} × 100 B with acks`, 'gRPC Consume + Ack (batches ≤ 200 receipts)', { 'rec/s': g.map((x) => x.recordsPerSec), 'join ms': g.map((x) => x.joinMs) }, note);
  const dm = addRow(`consume ${P.consumeRecords} × 100 B with acks`, '@platformatic/kafka Consumer, commit per 200', { 'rec/s': d.map((x) => x.recordsPerSec), 'join ms': d.map((x) => x.joinMs) }, note);
  return { grpc: gm['rec/s']!, direct: dm['rec/s']! };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Tail latency, query throughput

async function tailScenario(plugin: { address: string }): Promise<Record<string, number>> {
  const rate = 500;
  const stream = grpcClient(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  const g: { p50: number; p99: number; delivered: number; sent: number }[] = [];
  const d: { p50: number; p99: number; delivered: number; sent: number }[] = [];
  const direct = directProducer('tail');
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`tail round ${r + 1}/${P.rounds}`);
      const topic = await newTopic(`tail-${r}`);
      // Through the plugin: gRPC Append, delivered by gRPC Tail.
      {
        const lat: number[] = [];
        const tail = new StreamReader<{ payload: Buffer }>(stream, 'Tail', { topic, start: 'latest' }, (e) => {
          lat.push(now() - e.payload.readDoubleLE(0));
          tail.received.length = 0;
        });
        await tail.ready;
        await sleep(300);
        const res = await openLoop(() => {
          const payload = Buffer.alloc(100);
          payload.writeDoubleLE(now(), 0);
          return call(stream, 'Append', { topic, payload });
        }, rate, P.tailMs, 100);
        await sleep(500);
        tail.cancel();
        g.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), delivered: lat.length, sent: res.records });
      }
      // Direct: @platformatic/kafka producer, and a consumer (group join awaited before the clock starts).
      {
        const lat: number[] = [];
        const consumer = new Consumer({ clientId: 'bench-tail', bootstrapBrokers: [brokers], groupId: `bench-${randomUUID()}`, autocommit: false, maxWaitTime: 500 });
        const joined = new Promise<void>((resolve) => consumer.once('consumer:group:join', () => resolve()));
        const ms = await consumer.consume({ topics: [topic], mode: 'latest', autocommit: false });
        ms.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => void lat.push(now() - m.value.readDoubleLE(0)));
        await joined;
        await sleep(300);
        const res = await openLoop(() => {
          const payload = Buffer.alloc(100);
          payload.writeDoubleLE(now(), 0);
          return direct.send({ messages: [{ topic, value: payload }] });
        }, rate, P.tailMs, 100);
        await sleep(500);
        await consumer.close(true).catch(() => undefined);
        d.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), delivered: lat.length, sent: res.records });
      }
    }
  } finally {
    stream.close();
    await direct.close();
  }
  const gm = addRow(`tail, 100 B at ${rate}/s`, 'gRPC Append → gRPC Tail (append start to delivery)', { 'p50 ms': g.map((x) => x.p50), 'p99 ms': g.map((x) => x.p99) }, `delivered ${g.map((x) => `${x.delivered}/${x.sent}`).join(', ')}`);
  addRow(`tail, 100 B at ${rate}/s`, '@platformatic/kafka send → group Consumer', { 'p50 ms': d.map((x) => x.p50), 'p99 ms': d.map((x) => x.p99) }, `delivered ${d.map((x) => `${x.delivered}/${x.sent}`).join(', ')}`);
  return { p99: gm['p99 ms']!, p50: gm['p50 ms']! };
}

async function queryScenario(plugin: { address: string }): Promise<Record<string, number>> {
  const topic = await newTopic('query');
  log(`query: filling ${P.queryRecords} records`);
  await fill(topic, P.queryRecords, 100);
  const stream = grpcClient(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  const g: number[] = [];
  const firstPage: number[] = [];
  const firstBig: number[] = [];
  const d: number[] = [];
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`query round ${r + 1}/${P.rounds}`);
      // First page at the default page size (100).
      for (let i = 0; i < 5; i++) {
        const t = now();
        const page = await call<{ events: unknown[] }>(stream, 'Query', { topic }, { deadlineMs: 60_000 });
        firstPage.push(now() - t);
        if (page.events.length !== 100) throw new Error(`first page has ${page.events.length} events`);
      }
      const t = now();
      let cursor = '';
      let total = 0;
      let pages = 0;
      do {
        const page = await call<{ events: unknown[]; next_cursor: string }>(stream, 'Query', { topic, limit: 10_000, cursor }, { deadlineMs: 60_000 });
        if (pages === 0) firstBig.push(now() - t);
        total += page.events.length;
        cursor = page.next_cursor;
        pages++;
      } while (cursor !== '');
      if (total !== P.queryRecords) throw new Error(`query returned ${total} of ${P.queryRecords}`);
      g.push(total / ((now() - t) / 1000));
      d.push((await directConsume(topic, P.queryRecords, false)).recordsPerSec);
    }
  } finally {
    stream.close();
  }
  const gm = addRow(`query ${P.queryRecords} × 100 B`, 'gRPC Query, pages of 10000', { 'rec/s': g, 'first page ms': firstBig });
  const fm = addRow(`query ${P.queryRecords} × 100 B`, 'gRPC Query, first page (limit 100)', { 'p50 ms': [median(firstPage)], 'p99 ms': [quantile(firstPage, 0.99)] }, `${firstPage.length} samples`);
  addRow(`query ${P.queryRecords} × 100 B`, '@platformatic/kafka group Consumer from earliest (no commits)', { 'rec/s': d }, 'from the first record to the last (join excluded)');
  return { recordsPerSec: gm['rec/s']!, firstPageMs: fm['p50 ms']! };
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Function adapter, 5. bundles

async function functionScenario(): Promise<Record<string, number>> {
  const topic = await newTopic('function');
  const colds: number[] = [];
  const loads: number[] = [];
  const firsts: number[] = [];
  let fn: number[] = [];
  let direct: number[] = [];
  for (let r = 0; r < P.rounds; r++) {
    log(`function round ${r + 1}/${P.rounds}`);
    const out = await new Promise<string>((resolve, reject) => {
      const child = track(spawn(process.execPath, [join(root, 'bench/function-child.ts'), join(root, 'dist/function.mjs'), topic, '3', String(Math.round(P.fnPerRound / 3))], {
        cwd: root, env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: brokers, KAFKA_COMPRESSION: 'none', PRISM_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'],
      }));
      let so = '';
      let se = '';
      child.stdout!.on('data', (b: Buffer) => (so += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (se += b.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(so) : reject(new Error(`function child exited ${code}: ${se.slice(-500)}`))));
    });
    const res = JSON.parse(out.split('\n').find((l) => l.startsWith('BENCH '))!.slice(6)) as { loadMs: number; firstMs: number; coldMs: number; fn: number[]; direct: number[] };
    colds.push(res.coldMs);
    loads.push(res.loadMs);
    firsts.push(res.firstMs);
    fn = fn.concat(res.fn);
    direct = direct.concat(res.direct);
  }
  const cm = addRow('function adapter', 'cold start: process start → first publish acked', { 'total ms': colds, 'bundle load ms': loads, 'first invocation ms': firsts }, 'node boot + import dist/function.mjs + connect + publish');
  const fm = addRow('function adapter', 'warm publish via handler (sequential)', { 'p50 ms': [median(fn)], 'p99 ms': [quantile(fn, 0.99)] }, `${fn.length} invocations`);
  const dm = addRow('function adapter', '@platformatic/kafka send (sequential, same process)', { 'p50 ms': [median(direct)], 'p99 ms': [quantile(direct, 0.99)] }, `${direct.length} sends, alternating blocks`);
  return { coldMs: cm['total ms']!, overheadMs: fm['p50 ms']! - dm['p50 ms']! };
}

function bundleScenario(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['server', 'function']) {
    const kib = statSync(join(root, 'dist', `${name}.mjs`)).size / 1024;
    out[name] = kib;
    addRow('bundle size', `dist/${name}.mjs`, { KiB: [kib] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

function printTable(): void {
  const lines: string[] = [];
  let last = '';
  for (const r of rows) {
    if (r.scenario !== last) lines.push(`\n## ${r.scenario}`);
    last = r.scenario;
    const cells = Object.entries(r.metric).map(([k, s]) => {
      const digits = k.includes('ms') ? 2 : k.startsWith('cpu') ? 0 : k === 'MB/s' || k === 'MB' || k === 'KiB' ? 1 : 0;
      return `${k} ${fmt(s.median, digits)}${s.rounds.length > 1 ? ` (±${fmt(s.spreadPct / 2, 0)}%)` : ''}`;
    });
    lines.push(`  ${r.path.padEnd(62)} ${cells.join('  ')}${r.note === undefined ? '' : `  [${r.note}]`}`);
  }
  console.log(lines.join('\n'));
}

interface Target { name: string; measured: number; target: number; unit: string; higherIsBetter: boolean }
function printTargets(targets: Target[]): void {
  console.log('\n## targets (reported, not asserted)');
  for (const t of targets) {
    const met = Number.isFinite(t.measured) && (t.higherIsBetter ? t.measured >= t.target : t.measured <= t.target);
    console.log(`  ${t.name.padEnd(70)} measured ${fmt(t.measured, t.unit === '×' ? 3 : t.unit === 'ms' ? 2 : 0)} ${t.unit}  target ${t.higherIsBetter ? '≥' : '≤'} ${fmt(t.target, t.unit === '×' ? 1 : t.unit === 'ms' ? 1 : 0)} ${t.unit}  ${met ? 'MET' : 'MISSED'}`);
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  await ensureBroker();
  log('building dist/ (node build.mjs)');
  // A profiled run keeps the bundle unminified: bench/profile-top.ts attributes samples by esbuild's module comments.
  const buildEnv = args.includes('--profile') ? { ...process.env, PRISM_BUILD_MINIFY: '0' } : process.env;
  execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'], env: buildEnv });
  const plugin = await startPlugin();
  log(`plugin pid ${plugin.pid} at ${plugin.address}; run ${runId}${quick ? ' (quick)' : ''}`);
  await sleep(500);
  const idle = memoryOf(plugin.pid);
  extra.idleMemory = idle;
  extra.idleHeap = await heapOf(plugin.address);
  const targets: Target[] = [];
  const keys: Record<string, Record<string, number>> = {};
  try {
    if (only.has('publish')) {
      const k = (keys.publish = await publishScenario(plugin));
      const g64 = k['100|gRPC Publish (plugin process)|call|64']!;
      const batched = Math.max(k['100|@platformatic/kafka|batch|1'] ?? 0, k['100|@platformatic/kafka|batch|4'] ?? 0);
      const perCall = k['100|@platformatic/kafka|call|64']!;
      targets.push({ name: 'gRPC publish 100 B, 64 callers / direct batched (best of 1, 4 callers)', measured: g64 / batched, target: 0.8, unit: '×', higherIsBetter: true });
      targets.push({ name: 'gRPC publish 100 B, 64 callers / direct 1 record/call, 64 callers', measured: g64 / perCall, target: 1, unit: '×', higherIsBetter: true });
      const g64k = k['1024|gRPC Publish (plugin process)|call|64']!;
      targets.push({ name: 'gRPC publish 1 KiB, 64 callers / direct batched', measured: g64k / Math.max(k['1024|@platformatic/kafka|batch|1'] ?? 0, k['1024|@platformatic/kafka|batch|4'] ?? 0), target: 0.8, unit: '×', higherIsBetter: true });
      targets.push({ name: 'gRPC publish 1 KiB, 64 callers / direct 1 record/call, 64 callers', measured: g64k / k['1024|@platformatic/kafka|call|64']!, target: 1, unit: '×', higherIsBetter: true });
      const gBatch = Math.max(k['100|gRPC PublishBatch|batch|1'] ?? 0, k['100|gRPC PublishBatch|batch|4'] ?? 0);
      targets.push({ name: 'gRPC PublishBatch 100 B / direct batched (best of 1, 4 callers each; not an issue target)', measured: gBatch / batched, target: 0.8, unit: '×', higherIsBetter: true });
      targets.push({ name: `added p99 at half max load (${fmt(k.halfRate!)}/s, gRPC − direct)`, measured: k.addedP99!, target: 2, unit: 'ms', higherIsBetter: false });
      targets.push({ name: 'peak RSS of the plugin process under publish load', measured: k.peakRssMb!, target: 150, unit: 'MB', higherIsBetter: false });
    }
    if (only.has('consume')) keys.consume = await consumeScenario(plugin);
    if (only.has('tail')) {
      const k = (keys.tail = await tailScenario(plugin));
      targets.push({ name: 'tail end-to-end p99 at 500/s', measured: k.p99!, target: 25, unit: 'ms', higherIsBetter: false });
    }
    if (only.has('query')) {
      const k = (keys.query = await queryScenario(plugin));
      targets.push({ name: 'query throughput, 100 B records', measured: k.recordsPerSec!, target: 200_000, unit: 'rec/s', higherIsBetter: true });
    }
    if (only.has('function')) {
      const k = (keys.function = await functionScenario());
      targets.push({ name: 'function warm overhead (handler p50 − direct send p50)', measured: k.overheadMs!, target: 0.5, unit: 'ms', higherIsBetter: false });
      targets.push({ name: 'function cold start (process start → first publish acked)', measured: k.coldMs!, target: 300, unit: 'ms', higherIsBetter: false });
    }
    if (only.has('bundle')) keys.bundle = bundleScenario();
  } finally {
    plugin.child.kill('SIGTERM');
    await Promise.race([plugin.exited, sleep(5000)]);
    killChildren();
    await admin.close().catch(() => undefined);
  }
  console.log(`# Prism Kafka plugin benchmark — ${startedAt.toISOString()}${quick ? ' (quick)' : ''}`);
  console.log(`# ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, broker ${brokers}, acks=all, compression none, 3 partitions; median of ${P.rounds} alternating rounds (±half the max−min spread)`);
  printTable();
  printTargets(targets);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, 'bench/results', `${startedAt.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  const met = targets.map((t) => ({ ...t, met: t.higherIsBetter ? t.measured >= t.target : t.measured <= t.target }));
  writeFileSync(file, `${JSON.stringify({ startedAt, finishedAt: new Date(), quick, runId, brokers, node: process.version, cpus: os.cpus().length, params: P, rows, targets: met, keys, extra }, null, 2)}\n`);
  console.log(`\nresults: ${file.slice(root.length + 1)}  (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  killChildren();
  console.error(err);
  process.exit(1);
}
