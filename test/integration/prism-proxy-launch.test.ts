import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import { describe, expect, inject, it } from 'vitest';
import { jsonToStruct } from '../../adapters/grpc/struct.ts';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { useThrottledBundle, freePort, waitForPort } from '../support/launch.ts';
import { spawnNode, type Spawned } from '../support/process.ts';
import { producerQueueLength, until } from '../support/throttle.ts';

/**
 * Plays the Rust proxy (prism-proxy/src/pattern/mod.rs): spawn the built plugin with `--grpc-port <N>`, connect,
 * Initialize, Start, HealthCheck, use the data plane, Drain, Stop(30) and expect the process to end.
 */
const run = promisify(execFile);
const id = randomUUID().slice(0, 8);
const clientIds = { drain: `prism-proxy-drain-${id}`, stop: `prism-proxy-stop-${id}` };
const bundle = useThrottledBundle(() => inject('kafkaBrokers'), Object.values(clientIds));

interface Launched { plugin: Spawned; address: string; lifecycle: Client; queue: Client; close(): void }

async function launch(): Promise<Launched> {
  const port = await freePort();
  // Exactly what the proxy passes: one flag, no environment of ours besides the broker address.
  const plugin = spawnNode([bundle().bundle, '--grpc-port', String(port)], { cwd: bundle().dir, env: { KAFKA_BROKERS: inject('kafkaBrokers') } });
  await waitForPort(port);
  const address = `127.0.0.1:${port}`;
  const lifecycle = client(address, 'prism.interfaces.LifecycleInterface');
  const queue = client(address, 'prism.interfaces.queue.QueueBasicInterface');
  return { plugin, address, lifecycle, queue, close: () => {
    lifecycle.close();
    queue.close();
    plugin.child.kill('SIGKILL');
  } };
}

interface Published { topic: string; partition: number; offset: string; message_id: string }

/** Publishes that the broker will hold for the request timeout: a big record first trips the producer's quota. */
async function holdPublishes(p: Launched, topic: string, payloads: string[]): Promise<Promise<Published>[]> {
  await call(p.queue, 'Publish', { topic, payload: Buffer.alloc(200_000, 7) }, { deadlineMs: 30_000 });
  const pending = payloads.map((payload) => call<Published>(p.queue, 'Publish', { topic, payload: Buffer.from(payload) }, { deadlineMs: 60_000 }));
  for (const promise of pending) promise.catch(() => undefined);
  // The plugin's own gauge says when every one of them is inside the producer, waiting for the broker.
  expect(await until(async () => (await producerQueueLength(p.address)) === payloads.length)).toBe(true);
  return pending;
}

const initialize = (p: Launched, clientId: string, topic: string) =>
  call<{ success: boolean; error: string }>(p.lifecycle, 'Initialize', {
    name: 'kafka',
    version: '0.1.0',
    // Numbers as a Struct carries them (doubles); a 4 s request timeout bounds how long the broker holds a request.
    config: jsonToStruct({ brokers: [inject('kafkaBrokers')], topic, client_id: clientId, request_timeout_ms: 4000.0, compression: 'none' }),
  });

async function readTopic(topic: string): Promise<string[]> {
  const { stdout } = await run('kcat', ['-C', '-b', inject('kafkaBrokers'), '-t', topic, '-e', '-q', '-f', '%s\n'], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter((line) => line !== '');
}

describe('launched by the Rust proxy: the built bundle with --grpc-port', () => {
  it('Initialize ×2, Start < 1 s, HealthCheck, Publish, Drain counting exactly the calls in flight (held publishes, a consume stream), Stop, exit 0', async () => {
    const p = await launch();
    try {
      const topic = `prism-proxy-${id}`;
      const empty = await call<{ success: boolean; metadata: { name: string; interfaces: { name: string; proto_file: string; proto_hash: string }[] } }>(p.lifecycle, 'Initialize', { name: 'kafka', version: '0.1.0', config: jsonToStruct({}) });
      expect(empty).toMatchObject({ success: true, metadata: { name: 'kafka' } });
      expect(empty.metadata.interfaces.map((i) => i.name)).toEqual(expect.arrayContaining(['prism.interfaces.queue.QueueBasicInterface', 'QueueBasicInterface', 'QueueInterface', 'PubSubBasicInterface', 'PubSubInterface']));
      // Each declared hash is the SHA-256 of the proto file shipped beside the bundle.
      for (const declared of empty.metadata.interfaces) {
        expect(declared.proto_hash).toBe(createHash('sha256').update(readFileSync(join(bundle().dir, 'dist', 'proto', declared.proto_file))).digest('hex'));
      }
      expect(await initialize(p, clientIds.drain, topic)).toMatchObject({ success: true, error: '' });

      const t0 = performance.now();
      expect(await call(p.lifecycle, 'Start', {})).toMatchObject({ success: true, data_endpoint: '' });
      expect(performance.now() - t0).toBeLessThan(1_000);
      const health = await call<{ status: string; details: Record<string, string> }>(p.lifecycle, 'HealthCheck', {});
      expect(health).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY', details: { topic, producer_queue: '0' } });
      const first = await call<Published>(p.queue, 'Publish', { topic, payload: Buffer.from('before-drain') }, { deadlineMs: 15_000 });
      expect(first).toMatchObject({ topic });
      // A consumer that acknowledged what it got: its offset is committed by the Ack, its stream is in flight.
      const consumer = new StreamReader<{ receipt: string; payload: Buffer }>(p.queue, 'Consume', { topic, group: `prism-proxy-${id}`, subscriber_id: `member-${id}` });
      await consumer.ready;
      const [delivered] = await consumer.waitFor(1);
      expect(delivered!.payload.toString()).toBe('before-drain');
      expect(await call(p.queue, 'Ack', { receipts: [delivered!.receipt] })).toEqual({ acknowledged: 1, committed: [`${topic}/${first.partition}=${BigInt(first.offset) + 1n}`] });

      const payloads = Array.from({ length: 5 }, (_, i) => `in-flight-${i}-${id}`);
      const inFlight = await holdPublishes(p, topic, payloads);
      const draining = call<{ success: boolean; drained_operations: string; aborted_operations: string }>(p.lifecycle, 'Drain', { timeout_seconds: 20, reason: 'proxy drain' }, { deadlineMs: 30_000 });
      // Once readiness turns (Drain began), a new publish is refused, while the held ones are still waiting.
      expect(await until(async () => (await fetch(`http://${p.address}/ready`)).status === 503)).toBe(true);
      const refused: unknown = await call(p.queue, 'Publish', { topic, payload: Buffer.from('during-drain') }).catch((e: unknown) => e);
      expect((refused as { code: number }).code).toBe(14);
      expect(await producerQueueLength(p.address)).toBe(payloads.length);

      // The consume stream ends at once, telling its client to resume elsewhere; it counts as drained, not aborted.
      expect(await until(() => consumer.error !== undefined)).toBe(true);
      expect(consumer.error).toMatchObject({ code: 14, details: expect.stringContaining('draining') });
      expect(await draining).toEqual({ success: true, error: '', drained_operations: String(payloads.length + 1), aborted_operations: '0' });
      const acks = await Promise.all(inFlight);
      expect(acks.every((a) => a.topic === topic && a.offset !== '')).toBe(true);

      expect(await call(p.lifecycle, 'Stop', { timeout_seconds: 30 })).toMatchObject({ success: true });
      expect(await p.plugin.exited).toEqual({ code: 0, signal: null });

      // Every acknowledged publish is on the broker, read back by an independent client; the refused one is not.
      const onBroker = await readTopic(topic);
      for (const payload of ['before-drain', ...payloads]) expect(onBroker).toContain(payload);
      expect(onBroker).not.toContain('during-drain');
    } finally {
      p.close();
    }
  });

  it('Stop honours its timeout: publishes held by the broker are aborted and counted, the answer comes in time', async () => {
    const p = await launch();
    try {
      const topic = `prism-proxy-stop-${id}`;
      expect(await initialize(p, clientIds.stop, topic)).toMatchObject({ success: true });
      const inFlight = await holdPublishes(p, topic, ['held-1', 'held-2', 'held-3']);
      const t0 = performance.now();
      expect(await call(p.lifecycle, 'Stop', { timeout_seconds: 1 })).toMatchObject({ success: true });
      // The broker would hold them for 4 s; Stop(1) answers after about 1 s.
      expect(performance.now() - t0).toBeLessThan(2_000);
      const outcomes = await Promise.allSettled(inFlight);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(await p.plugin.exited).toEqual({ code: 0, signal: null });
      const stopped = p.plugin.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'kafka plugin stopped');
      expect(stopped).toMatchObject({ drained: 0, aborted: 3 });
    } finally {
      p.close();
    }
  });
});
