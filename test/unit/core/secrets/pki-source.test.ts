import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../core/errors.ts';
import type { Credentials } from '../../../../core/secrets/credentials.ts';
import { leaseAction, leaseTiming, switchCredentials } from '../../../../core/secrets/lease-schedule.ts';
import { PkiCredentialSource } from '../../../../core/secrets/pki-source.ts';
import type { SecretRead, TokenInfo } from '../../../../core/secrets/vault-client.ts';

// One real certificate (a day long) for every issue: the source parses it; the fake lease (30 s) is what ends first.
const dir = mkdtempSync(join(tmpdir(), 'pki-unit-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=prism-kafka-plugin', '-days', '1'], { stdio: 'ignore' });
const certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
const keyPem = readFileSync(join(dir, 'k.pem'), 'utf8');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scripted OpenBao PKI engine: each issue answers a new serial and lease. */
class FakePki {
  address = 'http://vault.test:8200';
  down = false;
  token: TokenInfo = { ttlS: 3600, renewable: true };
  leaseS = 30;
  issued: { path: string; body: Record<string, unknown>; leaseId: string }[] = [];
  revoked: string[] = [];
  calls: string[] = [];
  #n = 0;
  gate(): void {
    if (this.down) throw new PluginError('UNAVAILABLE', `vault at ${this.address} unreachable`);
  }
  login = async () => { this.calls.push('login'); this.gate(); return this.token; };
  renewToken = async () => { this.calls.push('renewToken'); this.gate(); return this.token; };
  writeSecret = async (path: string, body: Record<string, unknown>): Promise<SecretRead> => {
    this.calls.push('issue');
    this.gate();
    const n = ++this.#n;
    const leaseId = `${path}/lease-${n}`;
    this.issued.push({ path, body, leaseId });
    return { data: { certificate: certPem, private_key: keyPem, ca_chain: [certPem], serial_number: `00:0${n}` }, leaseId, leaseDurationS: this.leaseS, renewable: false };
  };
  revokeLease = async (id: string) => { this.calls.push('revoke'); this.gate(); this.revoked.push(id); };
}

function setup(o: { fraction?: number; verify?: (c: Credentials) => Promise<void> } = {}) {
  const vault = new FakePki();
  let now = Date.now();
  const rotations: [string, string][] = [];
  const keys: string[] = [];
  const source = new PkiCredentialSource({
    client: vault, mount: 'pki', role: 'kafka-client', commonName: 'prism-kafka-plugin', ttlMs: 30_000,
    renewFraction: o.fraction ?? 0.5, marginMs: 2_000, log: pino({ level: 'silent' }), now: () => now, tickMs: 3_600_000,
    onSecret: (s) => keys.push(s),
  });
  if (o.verify !== undefined) source.setVerifier(o.verify);
  source.onRotate(async (next, prev) => void rotations.push([next.version, prev!.version]));
  const at = async (ms: number) => {
    now += ms;
    await source.refresh();
  };
  return { vault, source, at, rotations, keys };
}

describe('lease schedule', () => {
  it('acts at the fraction of a lease life, replaces what cannot be renewed, and replaces within the margin', () => {
    const t = leaseTiming(0, 30_000, false, 2 / 3);
    expect(leaseAction(t, 19_999, 1_000)).toBe('wait');
    expect(leaseAction(t, 20_000, 1_000)).toBe('replace');
    expect(leaseAction({ ...t, renewable: true }, 20_000, 1_000)).toBe('renew');
    expect(leaseAction({ ...leaseTiming(0, 30_000, true, 0.99) }, 29_000, 1_000)).toBe('replace');
  });

  it('switches in order (verify, current, listeners, revoke previous) and revokes new credentials that fail the proof', async () => {
    const steps: string[] = [];
    const s = (verifyOk: boolean) => ({
      verify: async (n: { leaseId?: string }) => { steps.push(`verify ${n.leaseId}`); if (!verifyOk) throw new Error('refused'); },
      makeCurrent: () => void steps.push('current'),
      listeners: [async () => void steps.push('listener')],
      onRotated: () => void steps.push('rotated'),
      revoke: async (c: { leaseId?: string }, why: string) => void steps.push(`revoke ${why} ${c.leaseId}`),
    });
    await switchCredentials(undefined, { leaseId: 'a' }, s(true));
    expect(steps.splice(0)).toEqual(['current']);
    await switchCredentials({ leaseId: 'a' }, { leaseId: 'b' }, s(true));
    expect(steps.splice(0)).toEqual(['verify b', 'current', 'listener', 'rotated', 'revoke previous a']);
    await expect(switchCredentials({ leaseId: 'b' }, { leaseId: 'c' }, s(false))).rejects.toThrow('refused');
    expect(steps.splice(0)).toEqual(['verify c', 'revoke unverified c']);
  });
});

describe('PkiCredentialSource', () => {
  it('issues a certificate at start from <mount>/issue/<role> with the CN and TTL, as the current credentials', async () => {
    const { vault, source, keys } = setup();
    await source.start();
    expect(vault.issued.map((i) => [i.path, i.body])).toEqual([['pki/issue/kafka-client', { common_name: 'prism-kafka-plugin', private_key_format: 'pkcs8', ttl: '30s' }]]);
    const c = source.current()!;
    expect(c).toMatchObject({ source: 'pki', username: 'prism-kafka-plugin', leaseId: 'pki/issue/kafka-client/lease-1', version: '00:01' });
    expect(c.tls?.key).toBe(keyPem);
    // The self-signed root in ca_chain is not sent along.
    expect(c.tls?.cert.trim()).toBe(certPem.trim());
    expect(keys).toEqual([keyPem]);
    expect(source.status()).toMatchObject({ valid: true, source: 'pki', expiresInS: 30 });
    await source.close();
  });

  it('reissues at the configured fraction, verifies, rotates, then revokes the old lease; revokes the last on close', async () => {
    const verified: string[] = [];
    const { vault, source, at, rotations } = setup({ fraction: 0.5, verify: async (c) => void verified.push(c.version) });
    await source.start();
    await at(14_000);
    expect(vault.issued).toHaveLength(1);
    await at(1_000); // 15 s of 30: half life
    expect(vault.issued).toHaveLength(2);
    expect(verified).toEqual(['00:02']);
    expect(rotations).toEqual([['00:02', '00:01']]);
    expect(vault.revoked).toEqual(['pki/issue/kafka-client/lease-1']);
    expect(vault.calls.slice(-2)).toEqual(['issue', 'revoke']);
    await at(15_000);
    expect(rotations).toHaveLength(2);
    await source.close();
    expect(vault.revoked).toEqual(['pki/issue/kafka-client/lease-1', 'pki/issue/kafka-client/lease-2', 'pki/issue/kafka-client/lease-3']);
  });

  it('keeps the old certificate when the new one fails verification, revokes the unverified one, and retries', async () => {
    let refuse = true;
    const { vault, source, at, rotations } = setup({ verify: async () => { if (refuse) throw new PluginError('UNAUTHENTICATED', 'broker refused'); } });
    await source.start();
    await at(15_000);
    expect(source.current()?.version).toBe('00:01');
    expect(vault.revoked).toEqual(['pki/issue/kafka-client/lease-2']);
    expect(rotations).toEqual([]);
    refuse = false;
    await at(2_000); // past the 1 s backoff
    expect(source.current()?.version).toBe('00:03');
    expect(vault.revoked).toEqual(['pki/issue/kafka-client/lease-2', 'pki/issue/kafka-client/lease-1']);
    await source.close();
  });

  it('degrades during a Vault outage, fails closed when the certificate expires, recovers when Vault is back', async () => {
    const { vault, source, at } = setup();
    await source.start();
    vault.down = true;
    await at(15_000);
    expect(source.status()).toMatchObject({ valid: true, source: 'pki' });
    expect(source.status().degraded).toMatch(/vault unreachable.*CN=prism-kafka-plugin/);
    await at(16_000); // 31 s: past the 30 s lease
    expect(source.status()).toMatchObject({ valid: false, expiresInS: 0 });
    expect(source.status().message).toMatch(/expired/);
    vault.down = false;
    await at(31_000); // past the longest backoff
    expect(source.status()).toMatchObject({ valid: true, expiresInS: 30 });
    expect(source.status().degraded).toBeUndefined();
    expect(source.current()?.version).toBe('00:02');
    await source.close();
  });

  it('reissues at once when the broker rejects the certificate, at most once per margin', async () => {
    const { vault, source, at } = setup();
    await source.start();
    source.rejected();
    await at(0);
    expect(vault.issued).toHaveLength(2);
    source.rejected();
    await at(0);
    expect(vault.issued).toHaveLength(2);
    await source.close();
  });

  it('refuses a renew fraction outside (0, 1)', () => {
    expect(() => new PkiCredentialSource({ client: new FakePki(), mount: 'pki', role: 'r', commonName: 'c', renewFraction: 1, marginMs: 1, log: pino({ level: 'silent' }) })).toThrow(/fraction/);
  });
});
