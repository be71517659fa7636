/**
 * Kafka credentials, with where they came from and, for leased ones, when they stop being valid: a SASL user and
 * password, or (source `pki`) an mTLS client certificate, whose CN is `username` and whose PEMs are in `tls`.
 */
export interface Credentials {
  username: string;
  password: string;
  /** `config` (env or file), `vault-lease` (dynamic secret), `vault-kv` (KV v2 secret) or `pki` (PKI certificate). */
  source: 'config' | 'vault-lease' | 'vault-kv' | 'pki';
  /** The client certificate (PEM, with its chain) and its private key (PEM), for source `pki`. */
  tls?: { cert: string; key: string };
  leaseId?: string;
  /** Epoch ms after which the broker may reject them (lease end); undefined when unknown or unlimited. */
  expiresAt?: number;
  /** A version that changes when the secret changes (lease id, KV version), for logs. */
  version: string;
}

/** How trustworthy the credentials are right now; feeds readiness. */
export interface CredentialStatus {
  /** false: none usable (never fetched, or expired while the secret store is unreachable): fail closed. */
  valid: boolean;
  /** Set when usable but at risk (the secret store is unreachable; cached credentials are in use). */
  degraded?: string;
  message: string;
  source: string;
  expiresInS?: number;
}

/**
 * Where Kafka credentials come from. `current()` is read at every new broker connection (the Kafka client takes
 * credential providers), so a rotation reaches new connections at once; `onRotate` lets the runtime switch its
 * clients over after the new credentials proved to work.
 */
export interface CredentialSource {
  current(): Credentials | undefined;
  status(): CredentialStatus;
  /**
   * Proves new credentials before they are used (a new SCRAM user reaches the brokers asynchronously); rejecting
   * keeps the previous credentials and retries later.
   */
  setVerifier(verify: (next: Credentials) => Promise<void>): void;
  /** Called after new credentials became current, to move open clients over; old leases are revoked after it. */
  onRotate(listener: (next: Credentials, previous: Credentials | undefined) => Promise<void>): void;
  /**
   * The broker rejected the current credentials (revoked lease, deleted user): fetch them again soon, without waiting
   * for the lease or KV schedule. A no-op for static credentials.
   */
  rejected(): void;
  /** First fetch and background renewal. Resolves after the first attempt (successful or not). */
  start(): Promise<void>;
  /** Stops renewals and revokes what it leased. Idempotent. */
  close(): Promise<void>;
}

/** Credentials fixed in configuration (env or file), or none (PLAINTEXT). */
export function staticCredentials(username: string | undefined, password: string | undefined): CredentialSource {
  const creds: Credentials | undefined = username === undefined ? undefined : { username, password: password ?? '', source: 'config', version: 'config' };
  return {
    current: () => creds,
    status: () => ({ valid: true, message: creds === undefined ? 'no SASL credentials configured' : `static credentials for ${creds.username}`, source: creds === undefined ? 'none' : 'config' }),
    setVerifier: () => undefined,
    rejected: () => undefined,
    onRotate: () => undefined,
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
