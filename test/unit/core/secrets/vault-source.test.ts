import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { PluginError } from '../../../../core/errors.ts';
import type { Credentials } from '../../../../core/secrets/credentials.ts';
import type { SecretRead, TokenInfo, VaultClient } from '../../../../core/secrets/vault-client.ts';
import { VaultCredentialSource } from '../../../../core/secrets/vault-source.ts';

/** A scripted Vault: the test sets what each call answers and reads which calls were made. */
class FakeVault {
  address = 'http://vault.test:8200';
  down = false;
  token: TokenInfo = { ttlS: 60, renewable: true };
  renewTtlS = 60;
  secret: SecretRead = { data: { username: 'u1', password: 'p1' }, leaseDurationS: 0, renewable: false, kvVersion: 1 };
  leaseRenewS = 30;
  calls: string[] = [];
  revoked: string[] = [];
  gate(): void {
    if (this.down) throw new PluginError('UNAVAILABLE', `vault at ${this.address} unreachable`);
  }
  login = async () => { this.calls.push('login'); this.gate(); return this.token; };
  renewToken = async () => { this.calls.push('renewToken'); this.gate(); return { ttlS: this.renewTtlS, renewable: true }; };
  readSecret = async () => { this.calls.push('read'); this.gate(); return structuredClone(this.secret); };
  renewLease = async () => { this.calls.push('renewLease'); this.gate(); return { leaseDurationS: this.leaseRenewS }; };
  revokeLease = async (id: string) => { this.revoked.push(id); };
}

function setup() {
  const vault = new FakeVault();
  let now = 1_000_000;
  const rotations: [string, string | undefined][] = [];
  const source = new VaultCredentialSource({
    client: vault as unknown as VaultClient, path: 'kafka/creds/prism', kvRefreshMs: 5_000, marginMs: 2_000,
    log: pino({ level: 'silent' }), now: () => now, tickMs: 3_600_000,
  });
  source.onRotate(async (next: Credentials, prev) => void rotations.push([next.username, prev?.username]));
  const at = async (ms: number) => {
    now += ms;
    await source.refresh();
  };
  const leased = (id: string, user: string, seconds: number): SecretRead => ({ data: { username: user, password: `pw-${user}` }, leaseId: id, leaseDurationS: seconds, renewable: true });
  return { vault, source, at, rotations, leased };
}

describe('VaultCredentialSource', () => {
  it('logs in, reads a KV secret, and reports valid credentials without an expiry', async () => {
    const { vault, source } = setup();
    await source.start();
    expect(vault.calls).toEqual(['login', 'read']);
    expect(source.current()).toMatchObject({ username: 'u1', password: 'p1', source: 'vault-kv' });
    expect(source.status()).toMatchObject({ valid: true, source: 'vault-kv' });
    await source.close();
  });

  it('is not valid before any credentials arrived, and names the Vault address', async () => {
    const { vault, source } = setup();
    vault.down = true;
    await source.start();
    expect(source.status()).toMatchObject({ valid: false });
    expect(source.status().message).toContain('vault.test:8200');
    await source.close();
  });

  it('renews the token at half its TTL and logs in again when renewals reach the max TTL', async () => {
    const { vault, source, at } = setup();
    await source.start();
    const tokenCalls = () => vault.calls.filter((c) => c === 'login' || c === 'renewToken');
    vault.calls = [];
    await at(29_000);
    expect(tokenCalls()).toEqual([]);
    vault.renewTtlS = 3; // capped by max TTL
    await at(2_000);
    expect(tokenCalls()).toEqual(['renewToken']);
    await at(1_500); // 1.5 s left < 2 s margin: new login
    expect(tokenCalls()).toEqual(['renewToken', 'login']);
    await source.close();
  });

  it('renews a lease at half its duration, and fetches new credentials when renewals are capped', async () => {
    const { vault, source, at, rotations, leased } = setup();
    vault.secret = leased('lease-1', 'dyn1', 20);
    await source.start();
    expect(source.current()).toMatchObject({ username: 'dyn1', leaseId: 'lease-1', source: 'vault-lease' });
    expect(source.status().expiresInS).toBe(20);
    vault.calls = [];
    await at(10_000);
    expect(vault.calls).toEqual(['renewLease']);
    vault.leaseRenewS = 3; // near the lease's max TTL
    vault.secret = leased('lease-2', 'dyn2', 20);
    await at(15_000);
    expect(vault.calls).toEqual(['renewLease', 'renewLease', 'read']);
    expect(source.current()).toMatchObject({ username: 'dyn2', leaseId: 'lease-2' });
    expect(rotations).toEqual([['dyn2', 'dyn1']]);
    expect(vault.revoked).toEqual(['lease-1']);
    await source.close();
    expect(vault.revoked).toEqual(['lease-1', 'lease-2']);
  });

  it('keeps cached credentials through a Vault outage (degraded), then fails closed when they expire', async () => {
    const { vault, source, at, leased } = setup();
    vault.secret = leased('lease-1', 'dyn1', 20);
    await source.start();
    vault.down = true;
    await at(10_000);
    expect(source.status()).toMatchObject({ valid: true });
    expect(source.status().degraded).toContain('unreachable');
    await at(11_000);
    expect(source.status().valid).toBe(false);
    expect(source.status().message).toContain('expired');
    vault.down = false;
    vault.secret = leased('lease-9', 'dyn9', 20);
    await at(60_000);
    expect(source.status()).toMatchObject({ valid: true });
    expect(source.current()?.username).toBe('dyn9');
    await source.close();
  });

  it('notices a changed KV secret, verifies it first, and keeps the old one while verification fails', async () => {
    const { vault, source, at, rotations } = setup();
    let verifyOk = false;
    source.setVerifier(async (next) => {
      if (!verifyOk) throw new PluginError('UNAUTHENTICATED', `SASL authentication failed for user ${next.username}`);
    });
    await source.start();
    vault.secret = { data: { username: 'u2', password: 'p2' }, leaseDurationS: 0, renewable: false, kvVersion: 2 };
    await at(6_000);
    expect(source.current()?.username).toBe('u1');
    expect(source.status().degraded).toContain('SASL authentication failed for user u2');
    verifyOk = true;
    await at(60_000);
    expect(source.current()?.username).toBe('u2');
    expect(rotations).toEqual([['u2', 'u1']]);
    await source.close();
  });

  it('fetches again at once when the broker rejects the credentials (a revoked dynamic secret)', async () => {
    const { vault, source, leased, rotations } = setup();
    vault.secret = leased('lease-1', 'dyn1', 3_600);
    await source.start();
    vault.secret = leased('lease-2', 'dyn2', 3_600);
    source.rejected();
    await vi.waitFor(() => expect(source.current()?.username).toBe('dyn2'));
    expect(rotations).toEqual([['dyn2', 'dyn1']]);
    await source.close();
  });
});
