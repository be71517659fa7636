import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients, probeCredentials } from '../../core/kafka/index.ts';
import { kcatRead } from '../support/kcat.ts';
import { startPluginProcess } from '../support/plugin-process.ts';
import { listAcls, type PkiBroker } from './support/pki-broker.ts';
import { issueCert, leaseState, pkiAppRole, writeCert, type PkiEngine } from './support/pki-openbao.ts';
import { makeCa, issue } from './support/tls-certs.ts';
import type { PersistentOpenBao } from './support/vault-openbao.ts';
import { startPkiFixture, type PkiFixture } from './support/pki-fixture.ts';

/**
 * Issue #20, the Kafka side of PKI credentials, proven with outside clients only (OpenBao's HTTP API, kcat): a private
 * OpenBao's PKI engine issues short-lived client certificates with leases; a private broker's mTLS listener trusts only
 * that CA, maps the certificate CN to the principal (ssl.principal.mapping.rules) and authorizes with
 * StandardAuthorizer ACLs. The plugin's CN may write; another CN from the same CA is refused with
 * TOPIC_AUTHORIZATION_FAILED; a certificate from another CA does not get past the handshake.
 */

const run = promisify(execFile);
const PLUGIN_CN = 'prism-kafka-plugin';
const OTHER_CN = 'intruder';

let bao: PersistentOpenBao;
let pki: PkiEngine;
let broker: PkiBroker;
let fixture: PkiFixture | undefined;

beforeAll(async () => {
  fixture = await startPkiFixture({ allowed: [PLUGIN_CN, OTHER_CN], granted: PLUGIN_CN });
  ({ bao, pki, broker } = fixture);
}, 180_000);

afterAll(async () => {
  await fixture?.stop();
});

/** kcat producing one record over the mTLS listener with the given certificate; resolves with its exit and stderr. */
async function kcatProduce(topic: string, files: { cert: string; key: string }, value: string): Promise<{ ok: boolean; stderr: string }> {
  const args = ['-P', '-b', broker.mtls, '-t', topic, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caFile}`,
    '-X', `ssl.certificate.location=${files.cert}`, '-X', `ssl.key.location=${files.key}`, '-X', 'message.timeout.ms=15000'];
  const child = run('kcat', args, { timeout: 40_000 });
  child.child.stdin!.end(`${value}\n`);
  return child.then(({ stderr }) => ({ ok: !/fail|error/i.test(stderr), stderr }), (e: Error & { stderr?: string }) => ({ ok: false, stderr: e.stderr ?? e.message }));
}

describe('Kafka mTLS with PKI-issued client certificates', () => {
  it('issues short-lived certificates with leases (generate_lease), only for the allowed CNs', async () => {
    const c = await issueCert(bao.admin, pki.mount, pki.role, PLUGIN_CN);
    expect(c.leaseId).toMatch(new RegExp(`^${pki.mount}/issue/${pki.role}/`));
    expect(c.leaseDurationS).toBeGreaterThan(20);
    expect(c.leaseDurationS).toBeLessThanOrEqual(30);
    expect((await leaseState(bao.admin, c.leaseId)).live).toBe(true);
    await expect(issueCert(bao.admin, pki.mount, pki.role, 'not-allowed')).rejects.toThrow(/HTTP 400/);
  });

  it('lets the plugin CN write and refuses another CN of the same CA with TOPIC_AUTHORIZATION_FAILED', async () => {
    const topic = `pki-acl-${Date.now()}`;
    const certs = join(broker.dir, 'certs');
    const good = writeCert(certs, 'plugin', await issueCert(bao.admin, pki.mount, pki.role, PLUGIN_CN));
    const bad = writeCert(certs, 'intruder', await issueCert(bao.admin, pki.mount, pki.role, OTHER_CN));

    const ok = await kcatProduce(topic, good, 'from-the-plugin-cn');
    expect(ok, `${ok.stderr}\nACLs:\n${await listAcls(broker.plaintext)}`).toMatchObject({ ok: true });
    const refused = await kcatProduce(topic, bad, 'from-another-cn');
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/Topic authorization failed/i);

    // The broker's word, over the admin (PLAINTEXT) side: the plugin's record is there, the other CN's is not.
    const records = await kcatRead(broker.plaintext, topic, 0, 'beginning', 1);
    expect(records.map((r) => r.payload)).toEqual(['from-the-plugin-cn']);
    const all = await run('kcat', ['-C', '-b', broker.plaintext, '-t', topic, '-o', 'beginning', '-e', '-q'], { timeout: 30_000 });
    expect(all.stdout.trim().split('\n')).toEqual(['from-the-plugin-cn']);
  }, 120_000);

  it('refuses at the handshake a certificate with the right CN from another CA', async () => {
    const dir = join(broker.dir, 'certs', 'foreign');
    const ca = makeCa(dir, 'foreign-ca');
    const foreign = issue(dir, PLUGIN_CN, ca, 'client');
    const refused = await kcatProduce(`pki-foreign-${Date.now()}`, foreign, 'from-a-foreign-ca');
    expect(refused.ok).toBe(false);
    // librdkafka: "SSL alert number 46" (certificate unknown) from the broker's handshake.
    expect(refused.stderr).toMatch(/certificate unknown|SSL alert/i);
  }, 120_000);

  it('@platformatic/kafka reads the client certificate at every new connection (the provider the plugin relies on)', async () => {
    const topic = `pki-provider-${Date.now()}`;
    const good = await issueCert(bao.admin, pki.mount, pki.role, PLUGIN_CN);
    const bad = await issueCert(bao.admin, pki.mount, pki.role, OTHER_CN);
    let current: { username: string; password: string; tls: { cert: string; key: string } } = { username: PLUGIN_CN, password: '', tls: { cert: good.cert, key: good.key } };
    const config = loadConfig({ env: {
      KAFKA_BROKERS: broker.mtls, KAFKA_TLS_CA_FILE: pki.caFile, KAFKA_AUTO_CREATE_TOPICS: 'true',
      VAULT_ENABLED: 'true', VAULT_AUTH_METHOD: 'token', VAULT_TOKEN: 'unused', VAULT_PKI_ROLE: pki.role, VAULT_PKI_COMMON_NAME: PLUGIN_CN,
    } });
    const clients = kafkaClients(config, { auth: { current: () => current } });
    const record = (v: string) => ({ topic, value: Buffer.from(v), headers: [] });
    const before = clients.producer();
    const after = clients.producer();
    try {
      expect((await before.produce([record('first-cert')], {}))[0]).toMatchObject({ ok: true });
      // The provider now answers the other CN's certificate: a connection opened from now on presents it.
      current = { username: OTHER_CN, password: '', tls: { cert: bad.cert, key: bad.key } };
      const refused = (await after.produce([record('second-cert')], {}))[0]!;
      expect(refused.ok).toBe(false);
      expect(String((refused as { error: Error }).error.message)).toMatch(/authoriz|permission/i);
      // The connection opened before keeps the certificate it was opened with.
      expect((await before.produce([record('first-cert-again')], {}))[0]).toMatchObject({ ok: true });
      // And the verifier proves a certificate at the brokers: a foreign-CA one fails, the good one passes.
      await probeCredentials(config, { username: PLUGIN_CN, password: '', tls: { cert: good.cert, key: good.key } }, 5_000);
      const dir = join(broker.dir, 'certs', 'probe-foreign');
      const foreign = issue(dir, PLUGIN_CN, makeCa(dir, 'probe-foreign-ca'), 'client');
      await expect(probeCredentials(config, { username: PLUGIN_CN, password: '', tls: { cert: readFileSync(foreign.cert, 'utf8'), key: readFileSync(foreign.key, 'utf8') } }, 1_000)).rejects.toThrow();
    } finally {
      await Promise.all([before.close(), after.close()]);
    }
    const all = await run('kcat', ['-C', '-b', broker.plaintext, '-t', topic, '-o', 'beginning', '-e', '-q'], { timeout: 30_000 });
    expect(all.stdout.trim().split('\n')).toEqual(['first-cert', 'first-cert-again']);
  }, 120_000);
  it('the plugin with a PKI certificate for a CN the ACLs do not grant: Publish answers PERMISSION_DENIED, by grpcurl', async () => {
    const role = await pkiAppRole(bao.admin, 'prism-pki-denied', pki.mount, pki.role, { token_ttl: '10m', token_max_ttl: '30m' });
    const plugin = await startPluginProcess({
      KAFKA_BROKERS: broker.mtls, KAFKA_TLS_CA_FILE: pki.caFile, KAFKA_AUTO_CREATE_TOPICS: 'true',
      VAULT_ENABLED: 'true', VAULT_ADDR: bao.addr, VAULT_AUTH_METHOD: 'approle', VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: role.secretId,
      VAULT_PKI_ROLE: pki.role, VAULT_PKI_COMMON_NAME: OTHER_CN,
    });
    try {
      const body = JSON.stringify({ topic: `pki-denied-${Date.now()}`, payload: Buffer.from('x').toString('base64') });
      const answer = await run(join(inject('toolsBin'), 'grpcurl'), ['-plaintext', '-d', body, plugin.address, 'prism.interfaces.queue.QueueBasicInterface/Publish'], { timeout: 60_000 })
        .then(() => ({ stderr: 'answered OK' }), (err: Error & { stderr?: string }) => ({ stderr: err.stderr ?? err.message }));
      expect(answer.stderr).toMatch(/Code: PermissionDenied/);
      // The handshake itself succeeded (the CA is trusted, the CN is the principal): the refusal is the ACLs'.
      expect(answer.stderr).toMatch(/authoriz/i);
    } finally {
      plugin.child.kill('SIGTERM');
      await plugin.exited;
    }
  }, 120_000);
});
