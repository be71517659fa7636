import type { Logger } from '../logger.ts';
import { isPluginError } from '../errors.ts';
import type { TokenInfo } from './vault-client.ts';

/**
 * The lease handling every Vault/OpenBao credential source shares (dynamic SASL secrets, KV secrets, PKI
 * certificates): when a lease is due for renewal or replacement, the token's own renewal and re-login, and the loop
 * that runs the checks with single flight and backoff while the secret store is unreachable.
 */

/** What every Vault/OpenBao credential source is given besides its own settings. */
export interface LeaseSourceOptions {
  /** Act this long before a token or lease expires. */
  marginMs: number;
  log: Logger;
  /** Told every secret value it receives (passwords, private keys), so that logs can never show it. */
  onSecret?: (secret: string) => void;
  /** Observers for metrics. */
  events?: { renewal?(kind: 'token' | 'lease', ok: boolean): void; rotation?(): void };
  now?: () => number;
  tickMs?: number;
}

/** Where a lease stands: when to act on it and when it stops being valid. */
export interface LeaseTiming {
  /** Epoch ms at which to renew (or replace, when not renewable). */
  renewAt: number;
  /** Epoch ms at which the lease (and what it covers) ends. */
  expiresAt: number;
  renewable: boolean;
}

/**
 * A lease just obtained or renewed, lasting `durationMs` from `now`, to be acted on at `fraction` of that life
 * (0.5: at half life, Vault's own recommendation for renewals).
 */
export function leaseTiming(now: number, durationMs: number, renewable: boolean, fraction: number): LeaseTiming {
  return { renewAt: now + durationMs * fraction, expiresAt: now + durationMs, renewable };
}

/**
 * What to do about a lease now: `replace` (get a new secret) when it ends within `marginMs`, or is due and cannot be
 * renewed; `renew` when due and renewable; otherwise `wait`.
 */
export function leaseAction(t: LeaseTiming, now: number, marginMs: number): 'wait' | 'renew' | 'replace' {
  if (t.expiresAt - now <= marginMs) return 'replace';
  if (now < t.renewAt) return 'wait';
  return t.renewable ? 'renew' : 'replace';
}

/**
 * The timing after a renewal that granted `durationS`; `capped` when the lease's max TTL cut it so short (within twice
 * the margin) that the secret must be replaced now rather than renewed again.
 */
export function afterRenewal(now: number, durationS: number, fraction: number, marginMs: number): { timing: LeaseTiming; capped: boolean } {
  return { timing: leaseTiming(now, durationS * 1000, true, fraction), capped: durationS * 1000 <= 2 * marginMs };
}

/** The Vault token the sources call with: logged in when missing or near its end, renewed at half its TTL. */
export class VaultToken {
  readonly #client: { login(): Promise<TokenInfo>; renewToken(): Promise<TokenInfo> };
  readonly #marginMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onRenewal: ((ok: boolean) => void) | undefined;
  #token: { expiresAt: number; renewAt: number; renewable: boolean } | undefined;

  constructor(client: { login(): Promise<TokenInfo>; renewToken(): Promise<TokenInfo> }, o: { marginMs: number; log: Logger; now: () => number; onRenewal?: (ok: boolean) => void }) {
    this.#client = client;
    this.#marginMs = o.marginMs;
    this.#log = o.log;
    this.#now = o.now;
    this.#onRenewal = o.onRenewal;
  }

  /**
   * Logs in when there is no token or it ends within the margin, renews it when due. Resolves true after a new login
   * (every lease the previous token created dies with it, so the caller fetches its secret again).
   */
  async ensure(): Promise<boolean> {
    const now = this.#now();
    if (this.#token === undefined || this.#token.expiresAt - now <= this.#marginMs) {
      this.#set(await this.#client.login());
      this.#log.info({ ttl_s: Math.round((this.#token!.expiresAt - now) / 1000) }, 'vault login');
      return true;
    }
    if (this.#token.renewable && now >= this.#token.renewAt) {
      try {
        this.#set(await this.#client.renewToken());
        this.#onRenewal?.(true);
      } catch (err) {
        this.#onRenewal?.(false);
        throw err;
      }
    }
    return false;
  }

  /** Vault no longer honours the token (403): log in again at the next attempt. */
  forget(): void {
    this.#token = undefined;
  }

  #set(info: TokenInfo): void {
    const now = this.#now();
    // A ttl of 0 is a root or periodic-less token that never expires.
    const ttlMs = info.ttlS === 0 ? Number.MAX_SAFE_INTEGER / 2 : info.ttlS * 1000;
    this.#token = { expiresAt: now + ttlMs, renewAt: now + ttlMs / 2, renewable: info.renewable };
  }
}

const maxBackoffMs = 30_000;

/**
 * Runs `step` every `tickMs` (and on demand), never two at once; after a failure waits with exponential backoff (0.5 s
 * doubling, at most 30 s) and keeps the error for status reports until a step succeeds. A PERMISSION_DENIED failure
 * makes `token` log in again.
 */
export class RenewalLoop {
  readonly #step: () => Promise<void>;
  readonly #o: { tickMs: number; now: () => number; log: Logger; token?: VaultToken; what: string };
  #error: string | undefined;
  #retryAt = 0;
  #failures = 0;
  #busy = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;

  constructor(step: () => Promise<void>, o: { tickMs: number; now: () => number; log: Logger; token?: VaultToken; what: string }) {
    this.#step = step;
    this.#o = o;
  }

  /** The last failure's message, until a step succeeds. */
  get error(): string | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** First step, then the timer. Idempotent: later calls share the first one's initial step. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      await this.tick();
      if (this.#closed) return;
      this.#timer = setInterval(() => void this.tick(), this.#o.tickMs);
      this.#timer.unref();
    })();
    return this.#started;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  /** One step now, unless one is running, the loop is closed, or the backoff after a failure has not passed. */
  async tick(): Promise<void> {
    if (this.#busy || this.#closed || this.#o.now() < this.#retryAt) return;
    this.#busy = true;
    try {
      await this.#step();
      this.#error = undefined;
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      this.#error = (err as Error).message;
      // 403: Vault no longer honours the token (revoked, or a restarted or restored server that lost it). Log in again
      // at the next attempt rather than renew a dead token until the end of the TTL it was issued with.
      if (isPluginError(err) && err.code === 'PERMISSION_DENIED') this.#o.token?.forget();
      this.#retryAt = this.#o.now() + Math.min(maxBackoffMs, 500 * 2 ** this.#failures);
      this.#o.log.warn({ error: this.#error, retry_in_ms: this.#retryAt - this.#o.now() }, this.#o.what);
    } finally {
      this.#busy = false;
    }
  }
}

/** What a switch to new credentials needs from its source. */
export interface Switch<C extends { leaseId?: string }> {
  /** Proves `next` at the brokers; rejecting keeps the previous credentials (the loop retries later). */
  verify(next: C): Promise<void>;
  /** Makes `next` the credentials new connections use. */
  makeCurrent(): void;
  /** Move the open clients over, in order. */
  listeners: readonly ((next: C, previous: C) => Promise<void>)[];
  onRotated?(): void;
  /** Revokes a lease; never rejects (logs instead). `why`: the previous credentials, or new ones that failed the proof. */
  revoke(c: C, why: 'previous' | 'unverified'): Promise<void>;
}

/**
 * The switch every source makes, the same way: the first credentials become current at once; later ones are proved at
 * the brokers first (a failed proof revokes the new lease, which would otherwise live on unused), become current, the
 * listeners move the open clients over, and only then is the previous lease revoked.
 */
export async function switchCredentials<C extends { leaseId?: string }>(previous: C | undefined, next: C, s: Switch<C>): Promise<void> {
  const ownLease = next.leaseId !== undefined && next.leaseId !== previous?.leaseId;
  if (previous !== undefined) {
    try {
      await s.verify(next);
    } catch (err) {
      if (ownLease) await s.revoke(next, 'unverified');
      throw err;
    }
  }
  s.makeCurrent();
  if (previous === undefined) return;
  for (const listener of s.listeners) await listener(next, previous);
  s.onRotated?.();
  if (previous.leaseId !== undefined && previous.leaseId !== next.leaseId) await s.revoke(previous, 'previous');
}
