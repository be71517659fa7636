import { X509Certificate } from 'node:crypto';
import { PluginError } from '../errors.ts';
import type { CredentialSource, CredentialStatus, Credentials } from './credentials.ts';
import { leaseAction, leaseTiming, RenewalLoop, switchCredentials, VaultToken, type LeaseSourceOptions, type LeaseTiming } from './lease-schedule.ts';
import type { SecretRead, TokenInfo } from './vault-client.ts';

/** The Vault calls the PKI source makes (VaultClient; a fake in unit tests). */
export interface PkiVault {
  readonly address: string;
  login(): Promise<TokenInfo>;
  renewToken(): Promise<TokenInfo>;
  writeSecret(path: string, body: Record<string, unknown>): Promise<SecretRead>;
  revokeLease(leaseId: string): Promise<void>;
}

export interface PkiSourceOptions extends LeaseSourceOptions {
  client: PkiVault;
  /** PKI engine mount (`pki`). */
  mount: string;
  role: string;
  commonName: string;
  /** Certificate lifetime to ask for; the role's default when unset. */
  ttlMs?: number;
  /** Reissue at this fraction of the certificate's life (0 < f < 1). */
  renewFraction: number;
}

/**
 * Kafka mTLS client certificates from OpenBao's/Vault's PKI engine (`<mount>/issue/<role>`). Issues one at start;
 * reissues when `renewFraction` of its life has passed (a PKI certificate cannot be renewed: its notAfter is fixed),
 * or at once when the brokers refused it or a new Vault login killed its lease; proves the new certificate at the
 * brokers (the verifier), makes it current, lets the listeners move the open clients to it, then revokes the old
 * certificate's lease (which revokes the certificate). The token and the retry loop are the shared lease schedule
 * (lease-schedule.ts). On a Vault outage the current certificate stays in use until it expires (status degraded),
 * then the status fails closed; issuing resumes by itself when Vault answers again. Revokes its lease on close.
 */
export class PkiCredentialSource implements CredentialSource {
  readonly #o: PkiSourceOptions;
  readonly #now: () => number;
  readonly #token: VaultToken;
  readonly #loop: RenewalLoop;
  readonly #listeners: ((next: Credentials, previous: Credentials | undefined) => Promise<void>)[] = [];
  #verify: (next: Credentials) => Promise<void> = () => Promise.resolve();
  #current: Credentials | undefined;
  #timing: LeaseTiming | undefined;
  #closed = false;
  #forceIssue = false;
  #lastForced = 0;

  constructor(options: PkiSourceOptions) {
    if (!(options.renewFraction > 0 && options.renewFraction < 1)) throw new PluginError('INVALID_ARGUMENT', `PKI renew fraction ${options.renewFraction}: expected a fraction between 0 and 1`);
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const now = this.#now;
    this.#token = new VaultToken(options.client, { marginMs: options.marginMs, log: options.log, now, onRenewal: (ok) => options.events?.renewal?.('token', ok) });
    this.#loop = new RenewalLoop(() => this.#due(), { tickMs: options.tickMs ?? 1_000, now, log: options.log, token: this.#token, what: 'vault PKI certificate refresh failed' });
  }

  get #path(): string {
    return `${this.#o.mount}/issue/${this.#o.role}`;
  }

  current(): Credentials | undefined {
    return this.#current;
  }

  status(): CredentialStatus {
    const now = this.#now();
    const c = this.#current;
    const where = `${this.#o.client.address} ${this.#path}`;
    const error = this.#loop.error;
    const expiresInS = c?.expiresAt === undefined ? undefined : Math.max(0, Math.floor((c.expiresAt - now) / 1000));
    const base = { source: 'pki', ...(expiresInS === undefined ? {} : { expiresInS }) };
    if (c === undefined) return { ...base, valid: false, message: `no Kafka client certificate yet from vault ${where}${error ? `: ${error}` : ''}` };
    const what = `client certificate CN=${c.username} serial ${c.version}`;
    if (c.expiresAt !== undefined && c.expiresAt <= now) return { ...base, valid: false, message: `Kafka ${what} expired and vault ${where} could not issue a new one${error ? `: ${error}` : ''}` };
    if (error !== undefined) return { ...base, valid: true, degraded: `vault unreachable or refusing; using the cached ${what} (expires in ${expiresInS ?? '?'} s): ${error}`, message: `cached ${what}` };
    return { ...base, valid: true, message: `${what} from vault ${where}` };
  }

  setVerifier(verify: (next: Credentials) => Promise<void>): void {
    this.#verify = verify;
  }

  onRotate(listener: (next: Credentials, previous: Credentials | undefined) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  start(): Promise<void> {
    return this.#loop.start();
  }

  /** Reissue checks now (the timer runs them every tick); honours the retry backoff after a failure. */
  refresh(): Promise<void> {
    return this.#loop.tick();
  }

  rejected(): void {
    // At most once per renew margin, so a broker that keeps refusing does not turn into a stream of certificates.
    const now = this.#now();
    if (this.#current === undefined || now - this.#lastForced < this.#o.marginMs) return;
    this.#lastForced = now;
    this.#o.log.warn({ common_name: this.#current.username, serial: this.#current.version }, 'the broker rejected the Kafka client certificate; issuing a new one');
    this.#forceIssue = true;
    void this.#loop.tick();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.close();
    const c = this.#current;
    if (c?.leaseId !== undefined) await this.#revoke(c, 'vault PKI lease revoked');
  }

  async #due(): Promise<void> {
    const freshLogin = await this.#token.ensure();
    const c = this.#current;
    // A new login ends the previous token's leases, and so this certificate's: replace it while it still works.
    if (c === undefined || this.#timing === undefined || (freshLogin && c.leaseId !== undefined) || this.#forceIssue) {
      this.#forceIssue = false;
      return this.#issue();
    }
    if (leaseAction(this.#timing, this.#now(), this.#o.marginMs) !== 'wait') return this.#issue();
  }

  async #issue(): Promise<void> {
    const { commonName, ttlMs } = this.#o;
    const read = await this.#o.client.writeSecret(this.#path, {
      common_name: commonName,
      // PKCS#8, the form every TLS stack reads.
      private_key_format: 'pkcs8',
      ...(ttlMs === undefined ? {} : { ttl: `${Math.ceil(ttlMs / 1000)}s` }),
    });
    const next = this.#credentialsOf(read);
    const previous = this.#current;
    const log = { common_name: next.username, serial: next.version, lease_id: next.leaseId, expires_at: new Date(next.expiresAt!).toISOString(), previous_serial: previous?.version };
    this.#o.log.info(log, previous === undefined ? 'kafka client certificate issued' : 'kafka client certificate rotating');
    if (next.leaseId === undefined) this.#o.log.warn({ path: this.#path }, 'the PKI role issued a certificate without a lease (generate_lease is off): the old certificate cannot be revoked by lease');
    await switchCredentials(previous, next, {
      verify: this.#verify,
      makeCurrent: () => {
        const now = this.#now();
        this.#current = next;
        this.#timing = leaseTiming(now, next.expiresAt! - now, false, this.#o.renewFraction);
      },
      listeners: this.#listeners,
      onRotated: () => this.#o.events?.rotation?.(),
      revoke: (c, why) => this.#revoke(c, why === 'previous' ? 'previous vault PKI lease revoked' : 'unverified vault PKI lease revoked'),
    });
  }

  #revoke(c: Credentials, done: string): Promise<void> {
    return this.#o.client.revokeLease(c.leaseId!).then(
      () => this.#o.log.info({ lease_id: c.leaseId, serial: c.version }, done),
      (err: unknown) => this.#o.log.warn({ lease_id: c.leaseId, serial: c.version, error: (err as Error).message }, 'vault PKI lease revocation failed'),
    );
  }

  #credentialsOf(read: SecretRead): Credentials {
    const d = read.data as { certificate?: unknown; private_key?: unknown; ca_chain?: unknown; serial_number?: unknown };
    if (typeof d.certificate !== 'string' || typeof d.private_key !== 'string' || d.certificate === '' || d.private_key === '') {
      throw new PluginError('FAILED_PRECONDITION', `vault ${this.#path} answered without a certificate and private key`);
    }
    this.#o.onSecret?.(d.private_key);
    let notAfter: number;
    let serial: string;
    try {
      const x = new X509Certificate(d.certificate);
      notAfter = Date.parse(x.validTo);
      serial = typeof d.serial_number === 'string' ? d.serial_number : x.serialNumber;
    } catch (err) {
      throw new PluginError('FAILED_PRECONDITION', `vault ${this.#path} answered with a certificate that does not parse: ${(err as Error).message}`, { cause: err });
    }
    const now = this.#now();
    // The lease may end before the certificate (a token TTL shorter than the role's): the earlier end counts.
    const leaseEnd = read.leaseId === undefined || read.leaseDurationS === 0 ? Infinity : now + read.leaseDurationS * 1000;
    const expiresAt = Math.min(notAfter, leaseEnd);
    if (!(expiresAt > now)) throw new PluginError('FAILED_PRECONDITION', `vault ${this.#path} issued a certificate that is already expired (notAfter ${new Date(notAfter).toISOString()})`);
    // The chain's intermediates go with the leaf; a self-signed root is not sent (the brokers' truststore holds it).
    const chain = Array.isArray(d.ca_chain) ? d.ca_chain.filter((p): p is string => typeof p === 'string') : [];
    const intermediates = chain.filter((p) => {
      try {
        const x = new X509Certificate(p);
        return x.subject !== x.issuer;
      } catch {
        return false;
      }
    });
    return {
      username: this.#o.commonName,
      password: '',
      source: 'pki',
      tls: { cert: [d.certificate, ...intermediates].map((p) => p.trim()).join('\n') + '\n', key: d.private_key },
      ...(read.leaseId === undefined ? {} : { leaseId: read.leaseId }),
      expiresAt,
      version: serial,
    };
  }
}
