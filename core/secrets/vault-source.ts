import { PluginError } from '../errors.ts';
import type { CredentialSource, CredentialStatus, Credentials } from './credentials.ts';
import { afterRenewal, leaseAction, leaseTiming, RenewalLoop, switchCredentials, VaultToken, type LeaseSourceOptions, type LeaseTiming } from './lease-schedule.ts';
import type { SecretRead, VaultClient } from './vault-client.ts';

export interface VaultSourceOptions extends LeaseSourceOptions {
  client: VaultClient;
  path: string;
  /** Re-read interval for KV secrets (no lease to watch). */
  kvRefreshMs: number;
}

/**
 * Kafka credentials from Vault/OpenBao: a dynamic secret (username/password with a lease) or a KV v2 secret.
 * Renews the token and the lease at half their remaining TTL; logs in again when the token cannot be renewed or
 * nears its max TTL; fetches new credentials ahead of a lease's end (and after a new login, since a lease dies with
 * the token that created it); re-reads KV secrets on an interval. On a Vault outage the cached credentials stay in
 * use until they expire (status degraded), then the status fails closed. Revokes its lease on close.
 */
export class VaultCredentialSource implements CredentialSource {
  readonly #o: VaultSourceOptions;
  readonly #now: () => number;
  readonly #listeners: ((next: Credentials, previous: Credentials | undefined) => Promise<void>)[] = [];
  #verify: (next: Credentials) => Promise<void> = () => Promise.resolve();
  #current: Credentials | undefined;
  readonly #token: VaultToken;
  readonly #loop: RenewalLoop;
  #lease: LeaseTiming | undefined;
  #kvNextRead = 0;
  #closed = false;
  #forceFetch = false;
  #lastForced = 0;

  constructor(options: VaultSourceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const now = this.#now;
    this.#token = new VaultToken(options.client, { marginMs: options.marginMs, log: options.log, now, onRenewal: (ok) => options.events?.renewal?.('token', ok) });
    this.#loop = new RenewalLoop(() => this.#due(), { tickMs: options.tickMs ?? 1_000, now, log: options.log, token: this.#token, what: 'vault credential refresh failed' });
  }

  get #error(): string | undefined {
    return this.#loop.error;
  }

  current(): Credentials | undefined {
    return this.#current;
  }

  status(): CredentialStatus {
    const now = this.#now();
    const c = this.#current;
    const where = `${this.#o.client.address} ${this.#o.path}`;
    const expiresInS = c?.expiresAt === undefined ? undefined : Math.max(0, Math.floor((c.expiresAt - now) / 1000));
    const base = { source: c?.source ?? 'vault', ...(expiresInS === undefined ? {} : { expiresInS }) };
    if (c === undefined) return { ...base, valid: false, message: `no Kafka credentials yet from vault ${where}${this.#error ? `: ${this.#error}` : ''}` };
    if (c.expiresAt !== undefined && c.expiresAt <= now) return { ...base, valid: false, message: `Kafka credentials for ${c.username} expired and vault ${where} could not renew them${this.#error ? `: ${this.#error}` : ''}` };
    if (this.#error !== undefined) return { ...base, valid: true, degraded: `vault unreachable or refusing; using cached credentials for ${c.username}: ${this.#error}`, message: `cached credentials for ${c.username}` };
    return { ...base, valid: true, message: `credentials for ${c.username} from vault ${where}` };
  }

  setVerifier(verify: (next: Credentials) => Promise<void>): void {
    this.#verify = verify;
  }

  onRotate(listener: (next: Credentials, previous: Credentials | undefined) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Idempotent: later calls share the first one's initial fetch. */
  start(): Promise<void> {
    return this.#loop.start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.close();
    const leaseId = this.#current?.leaseId;
    if (leaseId !== undefined) {
      await this.#o.client.revokeLease(leaseId).then(
        () => this.#o.log.info({ lease_id: leaseId }, 'vault lease revoked'),
        (err: unknown) => this.#o.log.warn({ lease_id: leaseId, error: (err as Error).message }, 'vault lease revocation failed'),
      );
    }
  }

  rejected(): void {
    // At most once per KV interval, so a broker that keeps refusing does not turn into a Vault request storm.
    const now = this.#now();
    if (this.#current === undefined || now - this.#lastForced < this.#o.kvRefreshMs) return;
    this.#lastForced = now;
    this.#o.log.warn({ username: this.#current.username }, 'the broker rejected the Kafka credentials; fetching them again');
    this.#forceFetch = true;
    void this.#loop.tick();
  }

  /** Runs the renewal checks now (the timer runs them every tick); honours the retry backoff after a failure. */
  refresh(): Promise<void> {
    return this.#loop.tick();
  }

  /** One pass over everything that may be due (the loop never runs two at once). */
  async #due(): Promise<void> {
    const margin = this.#o.marginMs;
    const freshLogin = await this.#token.ensure();
    const now = this.#now();
    const c = this.#current;
    if (c === undefined || (freshLogin && c.leaseId !== undefined)) return this.#fetch();
    if (this.#forceFetch) {
      this.#forceFetch = false;
      const read = await this.#o.client.readSecret(this.#o.path);
      const next = this.#credentialsOf(read);
      // Same secret (a KV value nobody changed): nothing better to switch to; the health check reports the refusal.
      if (next.version !== c.version || next.password !== c.password) await this.#switch(next, read);
      return;
    }
    if (c.leaseId !== undefined && this.#lease !== undefined) {
      const action = leaseAction(this.#lease, now, margin);
      if (action === 'replace') return this.#fetch();
      if (action === 'renew') {
        const renewed = await this.#o.client.renewLease(c.leaseId).catch((err: unknown) => {
          this.#o.events?.renewal?.('lease', false);
          throw err;
        });
        this.#o.events?.renewal?.('lease', true);
        const { timing, capped } = afterRenewal(now, renewed.leaseDurationS, 0.5, margin);
        this.#lease = timing;
        c.expiresAt = timing.expiresAt;
        // Renewal capped by the lease's max TTL: replace the credentials before they run out.
        if (capped) return this.#fetch();
      }
    } else if (c.leaseId === undefined && now >= this.#kvNextRead) {
      const read = await this.#o.client.readSecret(this.#o.path);
      this.#kvNextRead = now + this.#o.kvRefreshMs;
      const next = this.#credentialsOf(read);
      if (next.password !== c.password || next.username !== c.username) await this.#switch(next);
    }
  }

  async #fetch(): Promise<void> {
    const read = await this.#o.client.readSecret(this.#o.path);
    this.#kvNextRead = this.#now() + this.#o.kvRefreshMs;
    await this.#switch(this.#credentialsOf(read), read);
  }

  /**
   * Proves the new credentials against the brokers, makes them current (new connections use them), lets the
   * listeners move open clients over, then revokes the previous lease.
   */
  async #switch(next: Credentials, read?: SecretRead): Promise<void> {
    const previous = this.#current;
    this.#o.log.info({ username: next.username, lease_id: next.leaseId, version: next.version, previous_username: previous?.username }, previous === undefined ? 'kafka credentials obtained' : 'kafka credentials rotating');
    await switchCredentials(previous, next, {
      verify: this.#verify,
      makeCurrent: () => {
        this.#current = next;
        this.#lease = read?.leaseId === undefined ? undefined : leaseTiming(this.#now(), read.leaseDurationS * 1000, read.renewable, 0.5);
      },
      listeners: this.#listeners,
      onRotated: () => this.#o.events?.rotation?.(),
      revoke: (c, why) => this.#o.client.revokeLease(c.leaseId!).then(
        () => this.#o.log.info({ lease_id: c.leaseId, username: c.username }, why === 'previous' ? 'previous vault lease revoked' : 'unverified vault lease revoked'),
        (err: unknown) => this.#o.log.warn({ lease_id: c.leaseId, error: (err as Error).message }, `${why} vault lease revocation failed`),
      ),
    });
  }

  #credentialsOf(read: SecretRead): Credentials {
    const { username, password } = read.data;
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      throw new PluginError('FAILED_PRECONDITION', `vault secret ${this.#o.path} has no username and password fields`);
    }
    this.#o.onSecret?.(password);
    const leased = read.leaseId !== undefined;
    return {
      username,
      password,
      source: leased ? 'vault-lease' : 'vault-kv',
      ...(leased ? { leaseId: read.leaseId, expiresAt: this.#now() + read.leaseDurationS * 1000 } : {}),
      version: leased ? read.leaseId! : `kv-${read.kvVersion ?? 0}`,
    };
  }
}
