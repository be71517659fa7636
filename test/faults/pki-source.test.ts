import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import type { Credentials } from '../../core/secrets/credentials.ts';
import { PkiCredentialSource } from '../../core/secrets/pki-source.ts';
import { VaultClient } from '../../core/secrets/vault-client.ts';
import { leaseState, pkiAppRole, revokedSerials, setUpPki, type PkiEngine } from './support/pki-openbao.ts';
import { baoBinary, PersistentOpenBao } from './support/vault-openbao.ts';
import { PKI_BAO_PORT } from './support/pki-fixture.ts';

/**
 * The PKI credential source against a real OpenBao (the private one of the PKI tests, port 29330): it logs in with an
 * AppRole, issues a certificate with a lease at start, reissues at the configured fraction of its life, revokes the
 * old lease after the switch and the last one on close. OpenBao's own `sys/leases/lookup` and the CA's revoked list
 * are the evidence.
 */

const CN = 'prism-kafka-plugin';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bao: PersistentOpenBao;
let pki: PkiEngine;

beforeAll(async () => {
  bao = new PersistentOpenBao(PKI_BAO_PORT, await baoBinary());
  await bao.start();
  pki = await setUpPki(bao.admin, { mount: 'pki', role: 'kafka-client', allowed: [CN, 'intruder'], ttl: '30s', maxTtl: '2m', dir: join(bao.dir, 'pki') });
}, 120_000);

afterAll(async () => {
  await bao?.stop();
});

describe('PkiCredentialSource on a real OpenBao', () => {
  it('issues at start, reissues at the fraction, revokes the old lease after the switch and the last one on close', async () => {
    const role = await pkiAppRole(bao.admin, `pki-source-${Date.now()}`, pki.mount, pki.role, { token_ttl: '10m', token_max_ttl: '20m' });
    const config = loadConfig({ env: { VAULT_ENABLED: 'true', VAULT_ADDR: bao.addr, VAULT_AUTH_METHOD: 'approle', VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: role.secretId, VAULT_PKI_ROLE: pki.role, VAULT_PKI_COMMON_NAME: CN } });
    const verified: string[] = [];
    const rotated: [string, string][] = [];
    // 10 s certificates, reissued at 40 % (4 s), margin 1 s.
    const source = new PkiCredentialSource({
      client: new VaultClient(config.vault), mount: pki.mount, role: pki.role, commonName: CN, ttlMs: 10_000,
      renewFraction: 0.4, marginMs: 1_000, log: pino({ level: 'silent' }), tickMs: 200,
    });
    source.setVerifier(async (c) => void verified.push(c.version));
    source.onRotate(async (next, prev) => void rotated.push([next.leaseId!, prev!.leaseId!]));
    try {
      const t0 = Date.now();
      await source.start();
      const first = source.current() as Credentials;
      expect(first).toMatchObject({ source: 'pki', username: CN });
      const x = new X509Certificate(first.tls!.cert);
      expect(x.subject).toBe(`CN=${CN}`);
      expect(x.verify(new X509Certificate(pki.caPem).publicKey)).toBe(true);
      expect(first.expiresAt! - t0).toBeLessThanOrEqual(10_500);
      expect(first.leaseId).toMatch(/^pki\/issue\/kafka-client\//);
      expect((await leaseState(bao.admin, first.leaseId!)).live).toBe(true);

      // The reissue is due at 4 s; it must not happen much before, and must happen soon after.
      await sleep(3_000);
      expect(source.current()?.leaseId).toBe(first.leaseId);
      const until = Date.now() + 5_000;
      while (source.current()?.leaseId === first.leaseId && Date.now() < until) await sleep(100);
      const second = source.current()!;
      expect(second.leaseId).not.toBe(first.leaseId);
      expect(Date.now() - t0).toBeLessThan(6_000);
      expect(verified).toEqual([second.version]);
      expect(rotated).toEqual([[second.leaseId, first.leaseId]]);
      // Revocation follows the listeners; give the call a moment.
      await sleep(300);
      expect((await leaseState(bao.admin, first.leaseId!)).live).toBe(false);
      expect((await leaseState(bao.admin, second.leaseId!)).live).toBe(true);
      expect(await revokedSerials(bao.admin, pki.mount)).toContain(first.version);
      expect(source.status()).toMatchObject({ valid: true, source: 'pki' });
    } finally {
      await source.close();
    }
    const last = source.current()!;
    expect((await leaseState(bao.admin, last.leaseId!)).live).toBe(false);
    expect(await revokedSerials(bao.admin, pki.mount)).toContain(last.version);
  }, 60_000);
  it('on a short-lived token: renews it at half life, logs in again at its max TTL and replaces the certificate whose lease died with it', async () => {
    // Token 4 s (renewed at ~2 s), max 10 s: within ~12 s the source must renew, log in again and reissue.
    const role = await pkiAppRole(bao.admin, `pki-token-${Date.now()}`, pki.mount, pki.role, { token_ttl: '4s', token_max_ttl: '10s' });
    const config = loadConfig({ env: { VAULT_ENABLED: 'true', VAULT_ADDR: bao.addr, VAULT_AUTH_METHOD: 'approle', VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: role.secretId, VAULT_PKI_ROLE: pki.role, VAULT_PKI_COMMON_NAME: CN } });
    const renewals: ['token' | 'lease', boolean][] = [];
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const source = new PkiCredentialSource({
      client: new VaultClient(config.vault), mount: pki.mount, role: pki.role, commonName: CN, ttlMs: 30_000,
      renewFraction: 0.9, marginMs: 1_000, log, tickMs: 200, events: { renewal: (kind, ok) => void renewals.push([kind, ok]) },
    });
    try {
      await source.start();
      const first = source.current()!;
      const until = Date.now() + 20_000;
      while (source.current()?.leaseId === first.leaseId && Date.now() < until) await sleep(200);
      const second = source.current()!;
      // Renewed for real (OpenBao answered the renew-self), then a second login once the max TTL was near.
      expect(renewals.filter(([k, ok]) => k === 'token' && ok).length).toBeGreaterThanOrEqual(1);
      expect(lines.filter((l) => l.includes('"msg":"vault login"')).length).toBeGreaterThanOrEqual(2);
      // The first certificate's lease was the old token's: replaced well before the certificate's own 30 s end.
      expect(second.leaseId).not.toBe(first.leaseId);
      expect(second.expiresAt! - first.expiresAt!).toBeGreaterThan(0);
      expect((await leaseState(bao.admin, first.leaseId!)).live).toBe(false);
      expect((await leaseState(bao.admin, second.leaseId!)).live).toBe(true);
      expect(source.status()).toMatchObject({ valid: true, source: 'pki' });
    } finally {
      await source.close();
    }
  }, 60_000);
});
