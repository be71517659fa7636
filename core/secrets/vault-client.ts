import { readFileSync } from 'node:fs';
import vault from 'node-vault';
import type { Config } from '../config/schema.ts';
import { tlsFailure } from '../tls-failure.ts';
import { PluginError } from '../errors.ts';

/** How long one Vault call may take before it counts as failed (and the credential source reports Vault unreachable). */
const requestTimeoutMs = 10_000;

/** What a Vault login or token lookup tells us about the token. */
export interface TokenInfo {
  ttlS: number;
  renewable: boolean;
}

/** A secret read from Vault: the data and, for a dynamic secret, its lease. */
export interface SecretRead {
  data: Record<string, unknown>;
  leaseId?: string;
  leaseDurationS: number;
  renewable: boolean;
  /** KV v2 version, when the path is a KV v2 secret. */
  kvVersion?: number;
}

/** A secret as Vault answers it: its data and, for a leased one, the lease. */
type SecretResponse = { data: Record<string, unknown>; lease_id?: string; lease_duration?: number; renewable?: boolean };

function secretRead(res: SecretResponse): SecretRead {
  return {
    data: res.data ?? {},
    ...(res.lease_id ? { leaseId: res.lease_id } : {}),
    leaseDurationS: res.lease_duration ?? 0,
    renewable: res.renewable === true,
  };
}

/**
 * The only place that talks to Vault/OpenBao (node-vault). Every error becomes a PluginError naming the address and
 * path; tokens and secret ids never appear in messages.
 */
export class VaultClient {
  readonly #config: Config['vault'];
  readonly #client: ReturnType<typeof vault>;
  readonly #addr: string;

  readonly #onSecret: (secret: string) => void;

  constructor(config: Config['vault'], onSecret: (secret: string) => void = () => undefined) {
    this.#config = config;
    this.#onSecret = onSecret;
    this.#addr = config.addr ?? 'http://127.0.0.1:8200';
    this.#client = vault({
      apiVersion: 'v1',
      endpoint: this.#addr,
      ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
      token: '',
      // Certificates are always verified: node-vault would otherwise turn verification off whenever the process
      // environment holds VAULT_SKIP_VERIFY (any value, "false" included), behind the configuration's back.
      // Every call is bounded: a Vault that accepts connections and never answers (a hung server, a partition) would
      // otherwise hold the renewal loop forever, and health would keep saying the credentials are fresh.
      requestOptions: { strictSSL: true, timeout: requestTimeoutMs, ...(config.caCertFile === undefined ? {} : { ca: readCaFile(config.caCertFile) }) },
    });
  }

  get address(): string {
    return this.#addr;
  }

  /** Logs in with the configured method; returns the new token's lifetime. */
  async login(): Promise<TokenInfo> {
    const c = this.#config;
    if (c.auth === 'token') {
      this.#client.token = c.token ?? readSecretFile(c.tokenFile, 'vault token file');
      this.#onSecret(this.#client.token);
      const self = await this.#call('token lookup', 'auth/token/lookup-self', () => this.#client.tokenLookupSelf()) as { data: { ttl: number; renewable: boolean } };
      return { ttlS: self.data.ttl, renewable: self.data.renewable };
    }
    const mount = c.authMount ?? c.auth;
    let auth: { client_token: string; lease_duration: number; renewable: boolean };
    if (c.auth === 'approle') {
      const secretId = c.secretId ?? (c.secretIdFile === undefined ? undefined : readSecretFile(c.secretIdFile, 'vault secret id file'));
      if (secretId !== undefined) this.#onSecret(secretId);
      if (c.roleId === undefined || secretId === undefined) throw new PluginError('FAILED_PRECONDITION', 'vault AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID (or VAULT_SECRET_ID_FILE)');
      auth = (await this.#call('AppRole login', `auth/${mount}/login`, () => this.#client.approleLogin({ mount_point: mount, role_id: c.roleId, secret_id: secretId })) as { auth: typeof auth }).auth;
    } else {
      if (c.role === undefined) throw new PluginError('FAILED_PRECONDITION', `vault ${c.auth} login needs VAULT_ROLE`);
      const jwt = readSecretFile(c.jwtFile, 'service account token file').trim();
      const login = c.auth === 'kubernetes'
        ? () => this.#client.kubernetesLogin({ role: c.role, jwt, kubernetesPath: mount })
        : () => this.#client.write(`auth/${mount}/login`, { role: c.role, jwt });
      auth = (await this.#call(`${c.auth} login`, `auth/${mount}/login`, login) as { auth: typeof auth }).auth;
    }
    this.#client.token = auth.client_token;
    this.#onSecret(auth.client_token);
    return { ttlS: auth.lease_duration, renewable: auth.renewable };
  }

  async renewToken(): Promise<TokenInfo> {
    const res = await this.#call('token renewal', 'auth/token/renew-self', () => this.#client.tokenRenewSelf()) as { auth: { lease_duration: number; renewable: boolean } };
    return { ttlS: res.auth.lease_duration, renewable: res.auth.renewable };
  }

  async readSecret(path: string): Promise<SecretRead> {
    const res = await this.#call('read', path, () => this.#client.read(path)) as SecretResponse;
    // KV v2 wraps the secret: { data: { data: {...}, metadata: { version } } }.
    const inner = res.data?.data;
    const isKv2 = inner !== null && typeof inner === 'object' && typeof res.data.metadata === 'object';
    return {
      ...secretRead(res),
      ...(isKv2 ? { data: inner as Record<string, unknown>, kvVersion: (res.data.metadata as { version?: number }).version ?? 0 } : {}),
    };
  }

  /** A write that returns a secret (e.g. `pki/issue/<role>`, which answers with a certificate and, with generate_lease, a lease). */
  async writeSecret(path: string, body: Record<string, unknown>): Promise<SecretRead> {
    return secretRead(await this.#call('write', path, () => this.#client.write(path, body)) as SecretResponse);
  }

  async renewLease(leaseId: string): Promise<{ leaseDurationS: number }> {
    const res = await this.#call('lease renewal', `sys/leases/renew (${leaseId})`, () => this.#client.renew({ lease_id: leaseId })) as { lease_duration: number };
    return { leaseDurationS: res.lease_duration };
  }

  async revokeLease(leaseId: string): Promise<void> {
    await this.#call('lease revocation', `sys/leases/revoke (${leaseId})`, () => this.#client.revoke({ lease_id: leaseId }));
  }

  async #call(what: string, path: string, run: () => Promise<unknown>): Promise<unknown> {
    try {
      return await run();
    } catch (err) {
      const e = err as { response?: { statusCode?: number }; code?: string; message?: string };
      const status = e.response?.statusCode;
      const where = `vault ${what} at ${this.#addr}/v1/${path}`;
      if (status === 403) throw new PluginError('PERMISSION_DENIED', `${where} was denied (403): check the token's policy for this path`, { cause: err });
      if (status === 404) throw new PluginError('NOT_FOUND', `${where}: nothing at this path (404)`, { cause: err });
      if (status === 400) throw new PluginError('UNAUTHENTICATED', `${where} was refused (400): ${e.message ?? 'bad request'}`, { cause: err });
      if (status !== undefined) throw new PluginError('UNAVAILABLE', `${where} failed with HTTP ${status}`, { cause: err });
      const tls = tlsFailure(err);
      if (tls !== undefined) {
        const fix = this.#config.caCertFile === undefined ? 'set VAULT_CACERT to the CA that signed its certificate' : `check that VAULT_CACERT (${this.#config.caCertFile}) holds the CA that signed its certificate`;
        throw new PluginError('UNAVAILABLE', `${where} failed: TLS: ${tls}; ${fix}`, { cause: err });
      }
      if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') throw new PluginError('UNAVAILABLE', `${where} failed: no answer from Vault within ${requestTimeoutMs} ms`, { cause: err });
      throw new PluginError('UNAVAILABLE', `${where} failed: Vault unreachable (${e.code ?? e.message ?? 'no answer'})`, { cause: err });
    }
  }
}

/** The CA file was checked when the configuration was loaded; a file gone since then fails every call, not start-up. */
function readCaFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new PluginError('FAILED_PRECONDITION', `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}
