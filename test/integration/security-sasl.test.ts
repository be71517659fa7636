import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServiceError } from '@grpc/grpc-js';
import { describe, expect, inject, it } from 'vitest';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin } from '../support/plugin.ts';

const adminPassword = () => readFileSync(inject('kafkaAdminPasswordFile'), 'utf8').trim();

describe('SASL/SCRAM-SHA-512 on the real SASL listener', () => {
  it('authenticates with credentials from the environment: health, publish and consume work', async () => {
    const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaSaslBrokers'), KAFKA_SASL_USERNAME: inject('kafkaAdminUser'), KAFKA_SASL_PASSWORD: adminPassword() });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
      const topic = `sasl-${randomUUID().slice(0, 8)}`;
      const pub = await call<{ message_id: string }>(queue, 'Publish', { topic, payload: Buffer.from('over scram') });
      const s = new StreamReader<{ message_id: string }>(queue, 'Consume', { topic, group: `g-${topic}` });
      expect((await s.waitFor(1)).map((m) => m.message_id)).toEqual([pub.message_id]);
      s.cancel();
      expect(p.logs.join('')).not.toContain(adminPassword());
    } finally {
      lifecycle.close();
      queue.close();
      await p.close();
    }
  });

  it('authenticates with SCRAM-SHA-256 too', async () => {
    const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaSaslBrokers'), KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: inject('kafkaAdminUser'), KAFKA_SASL_PASSWORD: adminPassword() });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    try {
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
    } finally {
      lifecycle.close();
      await p.close();
    }
  });

  it('a wrong password: UNHEALTHY naming user and mechanism, publish UNAUTHENTICATED, process stays up, secret not logged', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const p = await startPlugin({ KAFKA_BROKERS: inject('kafkaSaslBrokers'), KAFKA_SASL_USERNAME: inject('kafkaAdminUser'), KAFKA_SASL_PASSWORD: wrong });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const health = await call<{ status: string; message: string }>(lifecycle, 'HealthCheck', {});
      expect(health.status).toBe('HEALTH_STATUS_UNHEALTHY');
      expect(health.message).toContain(`SASL authentication failed for user ${inject('kafkaAdminUser')} (SCRAM-SHA-512)`);
      const err = await call(queue, 'Publish', { topic: 'sasl-denied', payload: Buffer.from('x') }, { deadlineMs: 10_000 }).catch((e: ServiceError) => e) as ServiceError;
      expect(err.code).toBe(16);
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_UNHEALTHY' });
      expect(p.logs.join('')).not.toContain(wrong);
    } finally {
      lifecycle.close();
      queue.close();
      await p.close();
    }
  });
});
