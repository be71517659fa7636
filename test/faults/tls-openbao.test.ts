import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { startPlugin } from '../support/plugin.ts';
import { spawnNode } from '../support/process.ts';
import { startPluginProcess } from '../support/plugin-process.ts';
import { startTlsOpenBao, type TlsOpenBao } from './support/tls-openbao.ts';

/**
 * Security, HTTPS to OpenBao (issue #11 item 7): an OpenBao of this file's own with a TLS listener whose certificate
 * a CA generated here signed. The plugin reads its SCRAM credentials over HTTPS, trusting that CA through
 * VAULT_CACERT, and authenticates with them at the shared broker's SCRAM listener. An untrusted server is refused
 * with a reason naming TLS (also when the environment holds VAULT_SKIP_VERIFY), and the process stays up.
 */
let bao: TlsOpenBao;
const secretPath = `prism-tls-${randomUUID().slice(0, 8)}/kafka`;
const adminPassword = () => readFileSync(inject('kafkaAdminPasswordFile'), 'utf8').trim();
const root = new URL('../..', import.meta.url).pathname;

beforeAll(async () => {
  const started = Date.now();
  bao = await startTlsOpenBao();
  await bao.admin.kvPut(secretPath, { username: inject('kafkaAdminUser'), password: adminPassword() });
  console.log(`tls-openbao: OpenBao up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${bao.httpsAddr}`);
}, 60_000);

afterAll(async () => {
  await bao?.stop();
}, 30_000);

const vaultEnv = (extra: Record<string, string>): Record<string, string> => ({
  KAFKA_BROKERS: inject('kafkaSaslBrokers'),
  VAULT_ENABLED: 'true',
  VAULT_ADDR: bao.httpsAddr,
  VAULT_AUTH_METHOD: 'token',
  VAULT_TOKEN: bao.token,
  VAULT_PATH: `secret/data/${secretPath}`,
  ...extra,
});

type Health = { status: string; message: string; details: Record<string, string> };

async function healthUntil(address: string, want: (h: Health) => boolean, ms: number): Promise<Health> {
  const lifecycle = client(address, 'prism.interfaces.LifecycleInterface');
  try {
    const end = Date.now() + ms;
    let h = await call<Health>(lifecycle, 'HealthCheck', {});
    while (!want(h) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      h = await call<Health>(lifecycle, 'HealthCheck', {});
    }
    return h;
  } finally {
    lifecycle.close();
  }
}

describe('HTTPS to OpenBao', () => {
  it('reads the SCRAM credentials over HTTPS with VAULT_CACERT and publishes with them', async () => {
    const p = await startPlugin(vaultEnv({ VAULT_CACERT: bao.ca.cert }));
    p.runtime.start();
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const health = await healthUntil(p.address, (h) => h.status === 'HEALTH_STATUS_HEALTHY', 15_000);
      expect(health, health.message).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY', details: { credential_source: 'vault-kv' } });
      expect(p.runtime.deps.credentials.status().message).toBe(`credentials for ${inject('kafkaAdminUser')} from vault ${bao.httpsAddr} secret/data/${secretPath}`);
      const res = await call<{ offset: string }>(queue, 'Publish', { topic: `tls-bao-${randomUUID().slice(0, 8)}`, payload: Buffer.from('creds over https') });
      expect(res.offset).toBe('0');
      const logs = p.logs.join('\n');
      expect(logs).toContain('"msg":"kafka credentials obtained"');
      for (const secret of [adminPassword(), bao.token]) expect(logs).not.toContain(secret);
    } finally {
      queue.close();
      await p.close();
    }
  });

  it('a CA that did not sign the server certificate: UNHEALTHY naming TLS and VAULT_CACERT, no credentials', async () => {
    const p = await startPlugin(vaultEnv({ VAULT_CACERT: bao.otherCa.cert }));
    p.runtime.start();
    try {
      const health = await healthUntil(p.address, (h) => /TLS/.test(h.message), 10_000);
      expect(health.status).toBe('HEALTH_STATUS_UNHEALTHY');
      expect(health.message).toMatch(/TLS: .*certificate.*VAULT_CACERT/);
      expect(health.message).toContain(bao.otherCa.cert);
      expect(p.runtime.deps.credentials.current()).toBeUndefined();
      console.log(`tls-openbao: wrong CA → ${health.message}`);
    } finally {
      await p.close();
    }
  });

  it('no VAULT_CACERT, with VAULT_SKIP_VERIFY in the environment: still refused (verification cannot be switched off), process stays up', async () => {
    const p = await startPluginProcess({ ...vaultEnv({}), VAULT_SKIP_VERIFY: 'true' });
    try {
      const health = await healthUntil(p.address, (h) => /TLS/.test(h.message), 10_000);
      expect(health.status).toBe('HEALTH_STATUS_UNHEALTHY');
      expect(health.message).toMatch(/TLS: .*set VAULT_CACERT/);
      expect(p.child.exitCode).toBeNull();
      expect(p.stdout.join('\n')).not.toContain(bao.token);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('a VAULT_CACERT file that does not exist: the process refuses to start (exit 2) naming VAULT_CACERT', async () => {
    const p = spawnNode(['adapters/grpc/main.ts'], { cwd: root, env: { ...vaultEnv({ VAULT_CACERT: `${bao.ca.cert}.missing` }), PRISM_CONTROL_PLANE_PORT: '0' } });
    const { code } = await p.exited;
    expect(code).toBe(2);
    expect(p.stderr()).toMatch(/env VAULT_CACERT: cannot read CA certificates ".*\.missing": no such file/);
  });
});
