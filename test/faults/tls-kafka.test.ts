import { randomUUID } from 'node:crypto';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin } from '../support/plugin.ts';
import { startPluginProcess } from '../support/plugin-process.ts';
import { startTlsBroker, type TlsBroker } from './support/tls-broker.ts';

/**
 * Security, TLS to Kafka (issue #11 item 7): a broker of this file's own with a SASL_SSL (SCRAM-SHA-512) and an SSL
 * listener whose certificate is signed by a CA generated here. The plugin, configured the documented way
 * (KAFKA_SECURITY_PROTOCOL + KAFKA_TLS_CA_FILE), publishes and consumes through it; the wrong CA is refused with a
 * reason naming TLS while the process stays up. The function runtime reads the same settings.
 */
let broker: TlsBroker;
const started = Date.now();

beforeAll(async () => {
  broker = await startTlsBroker();
  console.log(`tls-kafka: broker up in ${((Date.now() - started) / 1000).toFixed(1)} s (SASL_SSL ${broker.saslSsl}, SSL ${broker.ssl})`);
}, 90_000);

afterAll(async () => {
  await broker?.stop();
}, 30_000);

const saslSslEnv = (caFile: string): Record<string, string> => ({
  KAFKA_BROKERS: broker.saslSsl,
  KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  KAFKA_SASL_USERNAME: broker.user,
  KAFKA_SASL_PASSWORD: broker.password,
  KAFKA_TLS_CA_FILE: caFile,
});

/** What reached the broker, read back over its PLAINTEXT listener (independent of the TLS path under test). */
async function recordsOnBroker(topic: string): Promise<string[]> {
  const reader = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: broker.plaintext } })).reader();
  try {
    const ends = await reader.offsets(topic, 'latest').catch(() => new Map<number, string>());
    if ([...ends.values()].every((o) => o === '0')) return [];
    const fetcher = reader.openFetcher(topic);
    try {
      const batches = await fetcher.fetch(new Map([...ends.keys()].map((p) => [p, '0'])), { maxWaitMs: 2_000, maxBytesPerPartition: 1 << 20 });
      return batches.flatMap((b) => b.records.map((r) => r.value.toString()));
    } finally {
      await fetcher.close();
    }
  } finally {
    await reader.close();
  }
}

type Health = { status: string; message: string; details: Record<string, string> };

describe('TLS to Kafka', () => {
  it('SASL_SSL with the CA file: healthy, publishes and consumes, the record is on the broker', async () => {
    const p = await startPlugin(saslSslEnv(broker.ca.cert));
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const health = await call<Health>(lifecycle, 'HealthCheck', {});
      expect(health, health.message).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
      const topic = `tls-sasl-${randomUUID().slice(0, 8)}`;
      const payload = `over SASL_SSL ${randomUUID()}`;
      const pub = await call<{ message_id: string; offset: string }>(queue, 'Publish', { topic, payload: Buffer.from(payload) });
      expect(pub.offset).toBe('0');
      const s = new StreamReader<{ message_id: string; payload: Buffer }>(queue, 'Consume', { topic, group: `g-${topic}` });
      const got = await s.waitFor(1, 20_000);
      s.cancel();
      expect(got.map((m) => [m.message_id, m.payload.toString()])).toEqual([[pub.message_id, payload]]);
      expect(await recordsOnBroker(topic)).toEqual([payload]);
      expect(p.logs.join('')).not.toContain(broker.password);
    } finally {
      lifecycle.close();
      queue.close();
      await p.close();
    }
  });

  it('SSL (TLS without SASL) with the CA file: publishes', async () => {
    const p = await startPlugin({ KAFKA_BROKERS: broker.ssl, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CA_FILE: broker.ca.cert });
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const topic = `tls-ssl-${randomUUID().slice(0, 8)}`;
      expect(await call<{ offset: string }>(queue, 'Publish', { topic, payload: Buffer.from('over SSL') })).toMatchObject({ offset: '0' });
      expect(await recordsOnBroker(topic)).toEqual(['over SSL']);
    } finally {
      queue.close();
      await p.close();
    }
  });

  it('mTLS (SSL listener requiring a client certificate): publishes with KAFKA_TLS_CERT_FILE/KEY_FILE, refused without', async () => {
    const base = { KAFKA_BROKERS: broker.mtls, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CA_FILE: broker.ca.cert };
    const [withCert, without] = await Promise.all([
      startPlugin({ ...base, KAFKA_TLS_CERT_FILE: broker.client.cert, KAFKA_TLS_KEY_FILE: broker.client.key }),
      startPlugin(base),
    ]);
    const queue = client(withCert.address, 'prism.interfaces.queue.QueueBasicInterface');
    const lifecycle = client(without.address, 'prism.interfaces.LifecycleInterface');
    try {
      const topic = `tls-mtls-${randomUUID().slice(0, 8)}`;
      expect(await call<{ offset: string }>(queue, 'Publish', { topic, payload: Buffer.from('over mTLS') })).toMatchObject({ offset: '0' });
      expect(await recordsOnBroker(topic)).toEqual(['over mTLS']);
      const refused = await call<Health>(lifecycle, 'HealthCheck', {});
      expect(refused.status).toBe('HEALTH_STATUS_UNHEALTHY');
      console.log(`tls-kafka: mTLS without a client certificate → ${refused.message}`);
    } finally {
      queue.close();
      lifecycle.close();
      await Promise.all([withCert.close(), without.close()]);
    }
  });

  it('the wrong CA: health UNHEALTHY naming TLS, publish UNAVAILABLE within its deadline, the process stays up', async () => {
    const p = await startPluginProcess({ ...saslSslEnv(broker.otherCa.cert), PRISM_LOG_LEVEL: 'info' });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    const topic = `tls-refused-${randomUUID().slice(0, 8)}`;
    try {
      const health = await call<Health>(lifecycle, 'HealthCheck', {});
      expect(health.status).toBe('HEALTH_STATUS_UNHEALTHY');
      expect(health.message).toMatch(/TLS handshake failed: .*certificate.*KAFKA_TLS_CA_FILE/);
      console.log(`tls-kafka: wrong CA → ${health.status}: ${health.message}`);
      const before = Date.now();
      const err = await call(queue, 'Publish', { topic, payload: Buffer.from('x') }, { deadlineMs: 8_000 }).catch((e: ServiceError) => e) as ServiceError;
      expect(err.code, err.message).toBe(14); // UNAVAILABLE
      expect(Date.now() - before).toBeLessThan(9_000);
      // Still serving after the refusals, and still telling the truth.
      expect(p.child.exitCode).toBeNull();
      expect(await call<Health>(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_UNHEALTHY' });
      expect(p.stdout.join('\n')).not.toContain(broker.password);
      expect(await recordsOnBroker(topic).catch(() => [])).toEqual([]);
    } finally {
      lifecycle.close();
      queue.close();
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('the function runtime reads the same TLS settings: publishes with the CA, UNAVAILABLE with the wrong one', async () => {
    const context = () => {
      const until = Date.now() + 10_000;
      return { awsRequestId: `tls-${Date.now()}`, getRemainingTimeInMillis: () => until - Date.now() };
    };
    const topic = `tls-fn-${randomUUID().slice(0, 8)}`;
    const request = { topic, payload: Buffer.from('function over SASL_SSL').toString('base64') };
    const good = new FunctionRuntime({ env: { ...saslSslEnv(broker.ca.cert), PRISM_LOG_LEVEL: 'silent' } });
    const bad = new FunctionRuntime({ env: { ...saslSslEnv(broker.otherCa.cert), PRISM_LOG_LEVEL: 'silent' } });
    try {
      expect(await good.invoke('publish', request, context())).toMatchObject({ ok: true, body: { topic, offset: '0' } });
      expect(await good.invoke('health', {}, context())).toMatchObject({ ok: true, body: { status: 'HEALTH_STATUS_HEALTHY' } });
      const refused = await bad.invoke('health', {}, context());
      expect(refused).toMatchObject({ ok: true, body: { status: 'HEALTH_STATUS_UNHEALTHY' } });
      if (refused.ok) expect(String(refused.body.message)).toContain('TLS handshake failed');
      expect(await bad.invoke('publish', request, context())).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
      expect(await recordsOnBroker(topic)).toEqual(['function over SASL_SSL']);
    } finally {
      await Promise.all([good.close(), bad.close()]);
    }
  });
});
