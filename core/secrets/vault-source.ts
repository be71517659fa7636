import type { Logger } from '../logger.ts';
import { PluginError, isPluginError } from '../errors.ts';
import type { CredentialSource, CredentialStatus, Credentials } from './credentials.ts';
import type { SecretRead, TokenInfo, VaultClient } from './vault-client.ts';

export interface VaultSourceOptions {
  client: VaultClient;
  path: string;
  /** Re-read interval for KV secrets (no lease to watch). */
  kvRefreshMs: number;
  /** Act this long before a token or lease expires. */
  marginMs: number;
  log: Logger;
  /** Told every secret value it receives, so that logs can never show it. */
  onSecret?: (secret: string) => void;
  /** Observers for metrics. */
  events?: { renewal?(kind: 'token' | 'lease', ok: boolean): void; rotation?(): void };
  now?: () => number;
  tickMs?: number;
}

const maxBackoffMs = 30_000;

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
  #token: { expiresAt: number; renewAt: number; renewable: boolean } | undefined;
  #lease: { renewAt: number; renewable: boolean } | undefined;
  #kvNextRead = 0;
  #error: string | undefined;
  #retryAt = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;
  #started: Promise<void> | undefined;
  #forceFetch = false;
  #lastForced = 0;

  constructor(options: VaultSourceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
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
    this.#started ??= (async () => {
      await this.#tick();
      if (this.#closed) return;
      this.#timer = setInterval(() => void this.#tick(), this.#o.tickMs ?? 1_000);
      this.#timer.unref();
    })();
    return this.#started;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
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
    void this.#tick();
  }

  /** Runs the renewal checks now (the timer runs them every tick); honours the retry backoff after a failure. */
  refresh(): Promise<void> {
    return this.#tick();
  }

  /** One pass over everything that may be due; never two at once. */
  async #tick(): Promise<void> {
    if (this.#busy || this.#closed || this.#now() < this.#retryAt) return;
    this.#busy = true;
    try {
      await this.#due();
      this.#error = undefined;
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      this.#error = (err as Error).message;
      // 403: Vault no longer honours the token (revoked, or a restarted or restored server that lost it). Log in again
      // at the next attempt rather than renew a dead token until the end of the TTL it was issued with.
      if (isPluginError(err) && err.code === 'PERMISSION_DENIED') this.#token = undefined;
      this.#retryAt = this.#now() + Math.min(maxBackoffMs, 500 * 2 ** this.#failures);
      this.#o.log.warn({ error: this.#error, retry_in_ms: this.#retryAt - this.#now() }, 'vault credential refresh failed');
    } finally {
      this.#busy = false;
    }
  }

  async #due(): Promise<void> {
    const now = this.#now();
    const margin = this.#o.marginMs;
    let freshLogin = false;
    if (this.#token === undefined || this.#token.expiresAt - now <= margin) {
      this.#setToken(await this.#o.client.login());
      freshLogin = true;
      this.#o.log.info({ ttl_s: Math.round((this.#token!.expiresAt - now) / 1000) }, 'vault login');
    } else if (this.#token.renewable && now >= this.#token.renewAt) {
      try {
        this.#setToken(await this.#o.client.renewToken());
        this.#o.events?.renewal?.('token', true);
      } catch (err) {
        this.#o.events?.renewal?.('token', false);
        throw err;
      }
    }
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
      if (c.expiresAt !== undefined && c.expiresAt - now <= margin) return this.#fetch();
      if (now >= this.#lease.renewAt) {
        if (!this.#lease.renewable) return this.#fetch();
        const renewed = await this.#o.client.renewLease(c.leaseId).catch((err: unknown) => {
          this.#o.events?.renewal?.('lease', false);
          throw err;
        });
        this.#o.events?.renewal?.('lease', true);
        c.expiresAt = now + renewed.leaseDurationS * 1000;
        this.#lease.renewAt = now + (renewed.leaseDurationS * 1000) / 2;
        // Renewal capped by the lease's max TTL: replace the credentials before they run out.
        if (renewed.leaseDurationS * 1000 <= 2 * margin) return this.#fetch();
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
    if (previous !== undefined) await this.#verify(next);
    this.#current = next;
    this.#lease = read?.leaseId === undefined ? undefined : { renewAt: this.#now() + (read.leaseDurationS * 1000) / 2, renewable: read.renewable };
    if (previous !== undefined) for (const listener of this.#listeners) await listener(next, previous);
    if (previous !== undefined) this.#o.events?.rotation?.();
    if (previous?.leaseId !== undefined && previous.leaseId !== next.leaseId) {
      await this.#o.client.revokeLease(previous.leaseId).then(
        () => this.#o.log.info({ lease_id: previous.leaseId, username: previous.username }, 'previous vault lease revoked'),
        (err: unknown) => this.#o.log.warn({ lease_id: previous.leaseId, error: (err as Error).message }, 'previous vault lease revocation failed'),
      );
    }
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

  #setToken(info: TokenInfo): void {
    const now = this.#now();
    // A ttl of 0 is a root or periodic-less token that never expires.
    const ttlMs = info.ttlS === 0 ? Number.MAX_SAFE_INTEGER / 2 : info.ttlS * 1000;
    this.#token = { expiresAt: now + ttlMs, renewAt: now + ttlMs / 2, renewable: info.renewable };
  }
}
