import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { OpenBao } from '../support/openbao.ts';
import { startPlugin } from '../support/plugin.ts';

const adminPassword = () => readFileSync(inject('kafkaAdminPasswordFile'), 'utf8').trim();
let bao: OpenBao;

beforeAll(async () => {
  bao = new OpenBao(inject('openbaoAddr'), inject('openbaoToken'));
  await bao.enableAppRole();
});

const until = async (ok: () => boolean | Promise<boolean>, ms: number) => {
  const end = Date.now() + ms;
  while (!(await ok()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
};

function vaultEnv(role: { roleId: string; secretId: string }, path: string, extra: Record<string, string> = {}) {
  return {
    KAFKA_BROKERS: inject('kafkaSaslBrokers'), VAULT_ENABLED: 'true', VAULT_ADDR: inject('openbaoAddr'), VAULT_AUTH_METHOD: 'approle',
    VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: role.secretId, VAULT_PATH: `secret/data/${path}`, ...extra,
  };
}

describe('Kafka credentials from OpenBao (AppRole login, KV v2 secret)', () => {
  it('authenticates at the SCRAM listener with credentials read after an AppRole login', async () => {
    const id = randomUUID().slice(0, 8);
    const role = await bao.appRole(`prism-${id}`, `prism-${id}/`, { token_ttl: '60s', token_max_ttl: '120s' });
    await bao.kvPut(`prism-${id}/kafka`, { username: inject('kafkaAdminUser'), password: adminPassword() });
    const p = await startPlugin(vaultEnv(role, `prism-${id}/kafka`));
    p.runtime.start();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      let health = { status: '', details: {} as Record<string, string> };
      await until(async () => (health = await call(lifecycle, 'HealthCheck', {})).status === 'HEALTH_STATUS_HEALTHY', 20_000);
      expect(health.status).toBe('HEALTH_STATUS_HEALTHY');
      expect(health.details.credential_source).toBe('vault-kv');
      const res = await call<{ offset: string }>(queue, 'Publish', { topic: `vault-${id}`, payload: Buffer.from('via vault') });
      expect(res.offset).toBe('0');
      const logs = p.logs.join('');
      for (const secret of [role.secretId, adminPassword()]) expect(logs).not.toContain(secret);
    } finally {
      lifecycle.close();
      queue.close();
      await p.close();
    }
  });

  it('renews a short-lived token, logs in again at its max TTL, and keeps publishing', async () => {
    const id = randomUUID().slice(0, 8);
    const role = await bao.appRole(`prism-short-${id}`, `prism-short-${id}/`, { token_ttl: '4s', token_max_ttl: '9s' });
    await bao.kvPut(`prism-short-${id}/kafka`, { username: inject('kafkaAdminUser'), password: adminPassword() });
    const p = await startPlugin(vaultEnv(role, `prism-short-${id}/kafka`, { VAULT_RENEW_MARGIN: '1500ms', VAULT_KV_REFRESH: '1s' }));
    p.runtime.start();
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const topic = `vault-short-${id}`;
      let failed = 0;
      let sent = 0;
      const end = Date.now() + 14_000;
      await until(() => p.runtime.deps.credentials.current() !== undefined, 10_000);
      while (Date.now() < end) {
        await call(queue, 'Publish', { topic, payload: Buffer.from(String(sent)) }).then(() => sent++, () => failed++);
        await new Promise((r) => setTimeout(r, 100));
      }
      const logins = p.logs.filter((l) => l.includes('"msg":"vault login"')).length;
      const metrics = await p.runtime.scope.metrics.registry.getSingleMetricAsString('prism_credential_renewals_total');
      console.log(`vault token test: logins=${logins} sent=${sent} failed=${failed}\n${metrics}`);
      expect(logins).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/prism_credential_renewals_total\{kind="token",result="ok"[^}]*\} [1-9]/);
      expect(failed).toBe(0);
      expect(p.runtime.deps.credentials.status().valid).toBe(true);
    } finally {
      queue.close();
      await p.close();
    }
  }, 40_000);

  it('recovers by itself when the secret changes from a wrong password to the right one', async () => {
    const id = randomUUID().slice(0, 8);
    const role = await bao.appRole(`prism-fix-${id}`, `prism-fix-${id}/`, { token_ttl: '60s', token_max_ttl: '120s' });
    const wrong = `wrong-${randomUUID()}`;
    await bao.kvPut(`prism-fix-${id}/kafka`, { username: inject('kafkaAdminUser'), password: wrong });
    const p = await startPlugin(vaultEnv(role, `prism-fix-${id}/kafka`, { VAULT_KV_REFRESH: '1s' }));
    p.runtime.start();
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    try {
      let health = { status: '', message: '' };
      await until(async () => (health = await call(lifecycle, 'HealthCheck', {})).message.includes('SASL authentication failed'), 15_000);
      expect(health.status).toBe('HEALTH_STATUS_UNHEALTHY');
      await bao.kvPut(`prism-fix-${id}/kafka`, { username: inject('kafkaAdminUser'), password: adminPassword() });
      await until(async () => (health = await call(lifecycle, 'HealthCheck', {})).status === 'HEALTH_STATUS_HEALTHY', 20_000);
      expect(health.status).toBe('HEALTH_STATUS_HEALTHY');
      expect(p.logs.join('')).not.toContain(wrong);
    } finally {
      lifecycle.close();
      await p.close();
    }
  }, 60_000);
});
