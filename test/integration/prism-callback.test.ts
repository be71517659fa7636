import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { jsonToStruct } from '../../adapters/grpc/struct.ts';
import { pluginVersion } from '../../core/version.ts';
import { FakeProxy } from '../support/fake-proxy.ts';
import { call, client } from '../support/grpc-client.ts';
import { freePort } from '../support/launch.ts';
import { spawnNode, type Spawned } from '../support/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** Starts the plugin in callback mode; with `proxyLate`, the proxy comes up only after the plugin began dialling. */
async function started(proxyLate = false): Promise<{ proxy: FakeProxy; plugin: Spawned }> {
  const proxy = new FakeProxy();
  const port = await freePort();
  if (!proxyLate) await proxy.start(port);
  // Go-style single-dash flag, as the proxy passes it.
  const plugin = spawnNode(['adapters/grpc/main.ts', '-proxy-addr', `127.0.0.1:${port}`], {
    cwd: root,
    env: { KAFKA_BROKERS: inject('kafkaBrokers'), PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', PRISM_HEARTBEAT_INTERVAL: '200ms' },
  });
  cleanup.push(() => {
    plugin.child.kill('SIGKILL');
    proxy.stop();
  });
  if (proxyLate) {
    await plugin.waitForLog('proxy control stream ended; reconnecting');
    await proxy.start(port);
  }
  return { proxy, plugin };
}

describe('callback mode (-proxy-addr): the plugin dials the proxy\'s ProxyControlPlane', () => {
  it('registers as register-1 once the proxy is up, sends heartbeats with its health, and registers again after the proxy restarts', async () => {
    const { proxy, plugin } = await started(true);
    const registration = await proxy.waitFor((m) => m.message === 'register', 20_000);
    expect(registration.correlation_id).toBe('register-1');
    expect(registration.register).toMatchObject({ pattern_name: 'kafka', pattern_version: pluginVersion, process_id: plugin.child.pid, metadata: { name: 'kafka', version: pluginVersion } });
    const declared = registration.register!.metadata.interfaces.map((i) => i.name);
    expect(declared).toEqual(expect.arrayContaining(['QueueBasicInterface', 'QueueInterface', 'PubSubBasicInterface', 'PubSubInterface']));

    const healthy = await proxy.waitFor((m) => m.heartbeat?.status === 'HEALTH_STATUS_HEALTHY', 10_000);
    // Unix milliseconds, fresh.
    expect(Math.abs(Number(healthy.heartbeat!.timestamp) - Date.now())).toBeLessThan(5_000);
    const beats = proxy.received.filter((m) => m.message === 'heartbeat').length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(proxy.received.filter((m) => m.message === 'heartbeat').length).toBeGreaterThanOrEqual(beats + 3);

    await proxy.restart();
    const again = await proxy.waitFor((m) => m.message === 'register', 15_000, proxy.received.length);
    expect(again.correlation_id).toBe('register-1');
    expect(proxy.registrations).toBe(2);
    await proxy.waitFor((m) => m.message === 'heartbeat', 5_000, proxy.received.indexOf(again));
  });

  it('answers initialize, start, health_check, drain, stop and shutdown with their correlation ids, then exits 0', async () => {
    const { proxy, plugin } = await started();
    await proxy.waitFor((m) => m.message === 'register', 20_000);
    const topic = `callback-${randomUUID().slice(0, 8)}`;

    const bad = await proxy.command({ correlation_id: 'init-bad', initialize: { name: 'kafka', version: '0.1.0', config: jsonToStruct({ compression: 'brotli' }) } });
    expect(bad.initialize_response).toMatchObject({ success: false });
    expect(bad.initialize_response!.error).toContain('Initialize config.compression: expected one of none, gzip, snappy, lz4, zstd, got "brotli"');

    const init = await proxy.command({ correlation_id: 'init-1', initialize: { name: 'kafka', version: '0.1.0', config: jsonToStruct({ brokers: [inject('kafkaBrokers')], topic }) } });
    expect(init).toMatchObject({ correlation_id: 'init-1', message: 'initialize_response', initialize_response: { success: true, metadata: { name: 'kafka' } } });

    const start = await proxy.command({ correlation_id: 'start-1', start: {} });
    expect(start).toMatchObject({ message: 'start_response', start_response: { success: true } });
    // The proxy dialled nothing, so the plugin says where its data services are; they answer there.
    const endpoint = start.start_response!.data_endpoint;
    expect(endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    const queue = client(endpoint, 'prism.interfaces.queue.QueueBasicInterface');
    cleanup.push(() => queue.close());
    expect(await call(queue, 'Publish', { topic, payload: Buffer.from('via callback') }, { deadlineMs: 15_000 })).toMatchObject({ topic });

    const health = await proxy.command({ correlation_id: 'health-1', health_check: {} });
    expect(health).toMatchObject({ message: 'health_response', health_response: { status: 'HEALTH_STATUS_HEALTHY', details: { topic, producer_queue: '0' } } });

    const drain = await proxy.command({ correlation_id: 'drain-1', drain: { timeout_seconds: 5, reason: 'proxy drain' } });
    expect(drain).toMatchObject({ message: 'drain_response', drain_response: { success: true, drained_operations: '0', aborted_operations: '0' } });
    const refused: unknown = await call(queue, 'Publish', { topic, payload: Buffer.from('late') }).catch((e: unknown) => e);
    expect((refused as { code: number }).code).toBe(14);
    const beat = await proxy.waitFor((m) => m.message === 'heartbeat', 5_000, proxy.received.length);
    expect(beat.heartbeat!.status).toBe('HEALTH_STATUS_DEGRADED');

    expect(await proxy.command({ correlation_id: 'stop-1', stop: { timeout_seconds: 5 } })).toMatchObject({ message: 'stop_response', stop_response: { success: true } });
    expect(await proxy.command({ correlation_id: 'shutdown-1', shutdown: { timeout_seconds: 5, reason: 'test over' } })).toMatchObject({ message: 'stop_response', stop_response: { success: true } });
    expect(await plugin.exited).toEqual({ code: 0, signal: null });
    expect(proxy.received.map((m) => m.correlation_id)).toEqual(expect.arrayContaining(['register-1', 'init-bad', 'init-1', 'start-1', 'health-1', 'drain-1', 'stop-1', 'shutdown-1']));
  });
});
