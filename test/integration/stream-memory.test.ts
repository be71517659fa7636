import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { spawnNode, type Spawned } from '../support/process.ts';
import { openTail, streamClient, unaryCall, type WireEvent } from '../support/stream-client.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const total = 100_000;
const batch = 2_000;
const readEveryMs = 100;
const readForMs = 12_000;
const rssLimitMb = 300;

let dir: string;
let plugin: Spawned;
let client: Client;
let address: string;

/** Resident set size of a process in MiB, from the kernel's own accounting. */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prism-stream-memory-'));
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, env: { ...process.env, PRISM_BUILD_OUTDIR: join(dir, 'dist') }, stdio: 'pipe' });
  plugin = spawnNode(['dist/server.mjs'], {
    cwd: dir,
    env: { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_LISTEN_HOST: '127.0.0.1', PRISM_CONTROL_PLANE_PORT: '0', PRISM_LOG_LEVEL: 'info' },
  });
  const line = await plugin.waitForLog('kafka plugin initialized');
  address = `127.0.0.1:${String(line.port)}`;
  client = streamClient(address);
}, 120_000);

afterAll(async () => {
  client?.close();
  plugin?.child.kill('SIGTERM');
  await plugin?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe('a deliberately slow tail reader', () => {
  it(`keeps the plugin's memory bounded while ${total} events are appended (one event read per ${readEveryMs} ms)`, async () => {
    const topic = `stream-memory-${randomUUID()}`;
    await unaryCall(client, 'CreateStream', { topic, partitions: 3, replication_factor: 1 });
    const pid = plugin.child.pid!;
    const baseline = rssMb(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);

    const tail = openTail(client, { topic });
    await tail.positioned;
    // The reader takes one event per tick and leaves the rest to flow control.
    tail.call.pause();
    tail.call.removeAllListeners('data');
    const read: WireEvent[] = [];
    const reader = setInterval(() => {
      const event = tail.call.read() as WireEvent | null;
      if (event !== null) read.push(event);
    }, readEveryMs);

    const started = Date.now();
    const producer = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } })).producer();
    try {
      for (let sent = 0; sent < total; sent += batch) {
        const records = Array.from({ length: batch }, (_, i) => ({ topic, partition: (sent + i) % 3, value: Buffer.from(`event-${sent + i}`), headers: [] }));
        const outcomes = await producer.produce(records, {});
        expect(outcomes.every((o) => o.ok)).toBe(true);
      }
    } finally {
      await producer.close();
    }
    const appendedMs = Date.now() - started;
    while (Date.now() - started < readForMs) await new Promise((r) => setTimeout(r, 100));
    clearInterval(reader);
    clearInterval(sampler);

    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    const consumed = [...metrics.matchAll(/^kafka_plugin_messages_consumed_total\{[^}]*topic="([^"]+)"[^}]*\} (\d+)/gm)].find((m) => m[1] === topic)?.[2];
    tail.call.cancel();

    console.log(`plugin RSS: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (limit ${rssLimitMb}); ${total} events appended in ${appendedMs} ms; `
      + `slow reader got ${read.length}; events the plugin pulled from Kafka for this tail: ${consumed ?? 'n/a'}`);
    expect(peak).toBeLessThan(rssLimitMb);
    // The reader was slow, and the plugin did not read ahead of it: flow control held all but a bounded window.
    expect(read.length).toBeGreaterThan(50);
    expect(read.length).toBeLessThan(200);
    expect(Number(consumed)).toBeLessThan(20_000);
    for (const p of [0, 1, 2]) {
      const offsets = read.filter((e) => e.partition === p).map((e) => Number(e.offset));
      expect(offsets).toEqual([...offsets.keys()].map((i) => offsets[0]! + i));
    }
  }, 60_000);
});
