import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { privateBroker } from '../support/private-broker.ts';

const run = promisify(execFile);
/** Its own broker, on its own ports and state dir: stopping the shared one would break the other test files. */
const broker = privateBroker({ dir: '.cache/infra-observability', plaintextPort: Number(process.env.PRISM_TEST_OBS_KAFKA_PORT ?? 29092) });
let plugin: TestPlugin | undefined;
let health: Client;
let lifecycle: Client;

beforeAll(async () => {
  await broker.up();
  plugin = await startPlugin({ KAFKA_BROKERS: broker.brokers, KAFKA_TOPIC: 'observability-health' });
  plugin.runtime.start();
  health = client(plugin.address, 'grpc.health.v1.Health');
  lifecycle = client(plugin.address, 'prism.interfaces.LifecycleInterface');
});
afterAll(async () => {
  health?.close();
  lifecycle?.close();
  await plugin?.close();
  await broker.down();
});

const seconds = (ms: number) => Math.round(ms / 100) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the three health surfaces say right now. */
async function surfaces(address: string): Promise<{ check: string; ready: number }> {
  const [check, ready] = await Promise.all([
    call<{ status: string }>(health, 'Check', { service: 'kafka' }, { deadlineMs: 2_000 }).then((r) => r.status),
    fetch(`http://${address}/ready`).then((r) => r.status),
  ]);
  return { check, ready };
}

/** Polls every 100 ms until both Check and /ready show `want`; resolves with when each first did (ms epoch). */
async function waitFor(address: string, want: 'SERVING' | 'NOT_SERVING', withinMs: number): Promise<{ check?: number; ready?: number }> {
  const seen: { check?: number; ready?: number } = {};
  const until = Date.now() + withinMs;
  while (Date.now() < until && (seen.check === undefined || seen.ready === undefined)) {
    const now = await surfaces(address);
    if (seen.check === undefined && now.check === want) seen.check = Date.now();
    if (seen.ready === undefined && now.ready === (want === 'SERVING' ? 200 : 503)) seen.ready = Date.now();
    await sleep(100);
  }
  return seen;
}

async function probe(address: string): Promise<{ code: number; stderr: string }> {
  return run(join(inject('toolsBin'), 'grpc-health-probe'), [`-addr=${address}`, '-service=kafka'])
    .then(({ stderr }) => ({ code: 0, stderr }), (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }));
}

describe('honest health while the broker goes away and comes back (a broker of its own)', () => {
  it('NOT_SERVING and /ready 503 within 10 s of the broker stopping, SERVING within 10 s of its return; /health/live 200 throughout', async () => {
    const p = plugin!;
    expect(await waitFor(p.address, 'SERVING', 10_000)).toMatchObject({ check: expect.any(Number), ready: expect.any(Number) });

    // Watch (a stream) must report each transition by itself, without polling.
    const watched: { status: string; at: number }[] = [];
    const watch = new StreamReader<{ status: string }>(health, 'Watch', { service: 'kafka' }, (m) => watched.push({ status: m.status, at: Date.now() }));
    const live = { checks: 0, failures: [] as string[] };
    let watching = true;
    const liveness = (async () => {
      while (watching) {
        const status = await fetch(`http://${p.address}/health/live`).then((r) => r.status, (e: Error) => e.message);
        live.checks++;
        if (status !== 200) live.failures.push(String(status));
        await sleep(200);
      }
    })();

    const stopBegan = Date.now();
    await broker.down();
    const stopped = Date.now();
    const down = await waitFor(p.address, 'NOT_SERVING', 10_000);
    const hc = await call<{ status: string; message: string; details: Record<string, string> }>(lifecycle, 'HealthCheck', {});
    const probeDown = await probe(p.address);

    const startBegan = Date.now();
    await broker.up();
    const started = Date.now();
    const up = await waitFor(p.address, 'SERVING', 10_000);
    const probeUp = await probe(p.address);
    watching = false;
    await liveness;
    watch.cancel();

    const watchDown = watched.find((w) => w.status === 'NOT_SERVING' && w.at >= stopBegan)?.at;
    const watchUp = watched.find((w) => w.status === 'SERVING' && w.at >= startBegan)?.at;
    console.log([
      `broker stop took ${seconds(stopped - stopBegan)} s (down.sh); then NOT_SERVING after: Check ${seconds(down.check! - stopped)} s, /ready 503 ${seconds(down.ready! - stopped)} s, Watch ${seconds(watchDown! - stopped)} s`,
      `broker start took ${seconds(started - startBegan)} s (up.sh, until it answered); then SERVING after: Check ${seconds(up.check! - started)} s, /ready 200 ${seconds(up.ready! - started)} s, Watch ${seconds(watchUp! - started)} s`,
      `/health/live: ${live.checks} checks, ${live.failures.length} not 200`,
    ].join('\n'));

    expect(down.check! - stopped).toBeLessThanOrEqual(10_000);
    expect(down.ready! - stopped).toBeLessThanOrEqual(10_000);
    expect(watchDown! - stopped).toBeLessThanOrEqual(10_000);
    expect(hc.status).toBe('HEALTH_STATUS_UNHEALTHY');
    expect(hc.details.brokers_reachable).toBe('false');
    expect(probeDown.code).not.toBe(0);
    expect(probeDown.stderr).toContain('NOT_SERVING');

    expect(up.check! - started).toBeLessThanOrEqual(10_000);
    expect(up.ready! - started).toBeLessThanOrEqual(10_000);
    expect(watchUp! - started).toBeLessThanOrEqual(10_000);
    expect(probeUp).toMatchObject({ code: 0 });
    expect(probeUp.stderr).toContain('status: SERVING');
    // Watch speaks on changes only: the initial status, then one message per transition.
    expect(watched.map((w) => w.status)).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);

    expect(live.failures).toEqual([]);
    expect(live.checks).toBeGreaterThan(10);
  });
});
