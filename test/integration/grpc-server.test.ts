import { afterEach, describe, expect, inject, it } from 'vitest';
import { jsonToStruct } from '../../adapters/grpc/struct.ts';
import { call, client, listServices } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const running: TestPlugin[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.close()));
});

async function plugin(env: Record<string, string> = {}): Promise<TestPlugin> {
  const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), ...env });
  running.push(p);
  return p;
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  let last: T = await probe();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

describe('gRPC lifecycle server against the real broker', () => {
  it('runs the Prism lifecycle: Initialize (empty and with config), Start at once, HealthCheck with a real round trip', async () => {
    const p = await plugin();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const init = await call(lifecycle, 'Initialize', { name: 'kafka', version: '0.1.0', config: jsonToStruct({}) });
    expect(init).toMatchObject({ success: true, error: '', metadata: { name: 'kafka' } });

    const again = await call(lifecycle, 'Initialize', { name: 'kafka', version: '0.1.0', config: jsonToStruct({ brokers: [inject('kafkaBrokers')], topic: 'lifecycle-test', max_message_bytes: 2048.0 }) });
    expect(again).toMatchObject({ success: true });
    expect(p.runtime.deps.config.kafka.topic).toBe('lifecycle-test');
    expect(p.runtime.deps.config.kafka.maxMessageBytes).toBe(2048);

    const t0 = performance.now();
    expect(await call(lifecycle, 'Start', {})).toMatchObject({ success: true, data_endpoint: '' });
    expect(performance.now() - t0).toBeLessThan(1_000);

    const health = await call<{ status: string; message: string; details: Record<string, string> }>(lifecycle, 'HealthCheck', {});
    expect(health.status).toBe('HEALTH_STATUS_HEALTHY');
    expect(health.message).not.toBe('');
    expect(health.details).toMatchObject({ topic: 'lifecycle-test', producer_queue: '0', brokers_reachable: 'true' });
    lifecycle.close();
  });

  it('answers Initialize with bad config in-band (success=false) and keeps the old config', async () => {
    const p = await plugin();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const res = await call<{ success: boolean; error: string }>(lifecycle, 'Initialize', { config: jsonToStruct({ compression: 'brotli', brokers: ':::' }) });
    expect(res.success).toBe(false);
    expect(res.error).toContain('Initialize config.compression: expected one of none, gzip, snappy, lz4, zstd, got "brotli"');
    expect(res.error).toContain('Initialize config.brokers (entry 1)');
    expect(p.runtime.deps.config.kafka.compression).toBe('snappy');
    lifecycle.close();
  });

  it('serves grpc.health.v1 for "" and "kafka": SERVING once the broker answered', async () => {
    const p = await plugin();
    p.runtime.start();
    const health = client(p.address, 'grpc.health.v1.Health');
    for (const service of ['', 'kafka']) {
      const res = await eventually(() => call<{ status: string }>(health, 'Check', { service }), (r) => r.status === 'SERVING');
      expect(res.status).toBe('SERVING');
    }
    const unknown: unknown = await call(health, 'Check', { service: 'nope' }).catch((e: unknown) => e);
    expect((unknown as { code: number }).code).toBe(5);
    health.close();
  });

  it('tells the truth when the brokers are unreachable: UNHEALTHY, NOT_SERVING, /ready 503', async () => {
    const p = await plugin({ KAFKA_BROKERS: '127.0.0.1:1' });
    p.runtime.start();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const res = await call<{ status: string; message: string }>(lifecycle, 'HealthCheck', {});
    expect(res.status).toBe('HEALTH_STATUS_UNHEALTHY');
    expect(res.message).toContain('127.0.0.1:1');
    const health = client(p.address, 'grpc.health.v1.Health');
    expect(await call(health, 'Check', { service: 'kafka' })).toMatchObject({ status: 'NOT_SERVING' });
    const ready = await fetch(`http://${p.address}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toContain('127.0.0.1:1');
    expect((await fetch(`http://${p.address}/health/live`)).status).toBe(200);
    lifecycle.close();
    health.close();
  });

  it('serves HTTP probes and Prometheus metrics on the same port as gRPC', async () => {
    const p = await plugin();
    p.runtime.start();
    const ready = await eventually(() => fetch(`http://${p.address}/ready`), (r) => r.status === 200);
    expect(ready.status).toBe(200);
    for (const path of ['/healthz', '/health', '/health/live']) expect((await fetch(`http://${p.address}${path}`)).status).toBe(200);
    const metrics = await (await fetch(`http://${p.address}/metrics`)).text();
    for (const name of ['kafka_plugin_messages_produced_total', 'kafka_plugin_messages_consumed_total', 'kafka_plugin_producer_queue_length', 'kafka_plugin_delivery_errors_total', 'kafka_plugin_health_status']) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    expect(metrics).toMatch(/^kafka_plugin_health_status\{namespace="test"\} 1$/m);
  });

  it('lists its services through server reflection', async () => {
    const p = await plugin();
    expect(await listServices(p.address)).toEqual(expect.arrayContaining(['prism.interfaces.LifecycleInterface', 'grpc.health.v1.Health']));
  });

  it('Drain refuses nothing it should not, reports counts, and turns health NOT_SERVING', async () => {
    const p = await plugin();
    p.runtime.start();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const health = client(p.address, 'grpc.health.v1.Health');
    await eventually(() => call<{ status: string }>(health, 'Check', { service: '' }), (r) => r.status === 'SERVING');
    const drained = await call(lifecycle, 'Drain', { timeout_seconds: 1, reason: 'test' });
    expect(drained).toMatchObject({ success: true, drained_operations: '0', aborted_operations: '0' });
    expect(await call(health, 'Check', { service: '' })).toMatchObject({ status: 'NOT_SERVING' });
    const hc = await call<{ status: string; message: string }>(lifecycle, 'HealthCheck', {});
    expect(hc.status).toBe('HEALTH_STATUS_DEGRADED');
    expect(hc.message).toBe('draining: test');
    lifecycle.close();
    health.close();
  });

  it('Stop answers, then the process is told to end', async () => {
    const p = await plugin();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    expect(await call(lifecycle, 'Stop', { timeout_seconds: 2 })).toMatchObject({ success: true });
    await p.stopped;
    expect(p.logs.some((l) => l.includes('"msg":"kafka plugin stopped"'))).toBe(true);
    lifecycle.close();
  });
});
