import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenBao } from '../../support/openbao.ts';

/** A PKI engine set up for the Kafka mTLS tests, with the files a broker needs. */
export interface PkiEngine {
  mount: string;
  /** The client-certificate role (short TTLs, generate_lease=true, only the allowed CNs). */
  role: string;
  /** The root CA, PEM, written to `caFile` (the broker's truststore and the clients' CA). */
  caPem: string;
  caFile: string;
}

/** A certificate `pki/issue/<role>` answered, with its lease. */
export interface IssuedCert {
  cert: string;
  key: string;
  ca: string;
  serial: string;
  leaseId: string;
  leaseDurationS: number;
}

const ignoreInUse = (e: Error) => {
  if (!/path is already in use|existing mount/.test(e.message)) throw e;
};

/**
 * Mounts a PKI engine at `mount` (once: the persistent OpenBao keeps it), makes its root CA (EC P-256, ten years, so
 * a kept server stays usable), and (re)writes two roles: `role` for client certificates (client usage only, CNs from
 * `allowed` only, `ttl`/`maxTtl` short, generate_lease so every certificate has a lease to renew and revoke) and
 * `<role>-broker` for the brokers' server certificate (localhost and 127.0.0.1, no lease). Writes the CA to
 * `<dir>/pki-ca.pem`.
 */
export async function setUpPki(admin: OpenBao, options: { mount: string; role: string; allowed: string[]; ttl: string; maxTtl: string; dir: string }): Promise<PkiEngine> {
  const { mount, role } = options;
  await admin.request('POST', `sys/mounts/${mount}`, { type: 'pki', config: { max_lease_ttl: '87600h' } }).catch(ignoreInUse);
  // A new mount answers 400 "no default issuer currently configured" until a root is generated.
  let caPem = await admin.request('GET', `${mount}/cert/ca`).then(
    (r) => (r.data as { certificate?: string } | undefined)?.certificate ?? '',
    (e: Error) => {
      if (/no default issuer/.test(e.message)) return '';
      throw e;
    },
  );
  if (caPem.trim() === '') {
    const root = await admin.request('POST', `${mount}/root/generate/internal`, { common_name: `prism-test-${mount}-root`, ttl: '87600h', key_type: 'ec', key_bits: 256 });
    caPem = (root.data as { certificate: string }).certificate;
  }
  await admin.request('POST', `${mount}/roles/${role}`, {
    allowed_domains: options.allowed,
    allow_bare_domains: true,
    allow_subdomains: false,
    allow_localhost: false,
    allow_ip_sans: false,
    enforce_hostnames: false,
    server_flag: false,
    client_flag: true,
    key_type: 'ec',
    key_bits: 256,
    ttl: options.ttl,
    max_ttl: options.maxTtl,
    generate_lease: true,
    require_cn: true,
  });
  await admin.request('POST', `${mount}/roles/${role}-broker`, {
    allowed_domains: ['localhost'],
    allow_bare_domains: true,
    allow_localhost: true,
    allow_ip_sans: true,
    server_flag: true,
    client_flag: false,
    key_type: 'ec',
    key_bits: 256,
    ttl: '72h',
    max_ttl: '72h',
    generate_lease: false,
  });
  mkdirSync(options.dir, { recursive: true });
  const caFile = join(options.dir, 'pki-ca.pem');
  writeFileSync(caFile, caPem.endsWith('\n') ? caPem : `${caPem}\n`);
  return { mount, role, caPem, caFile };
}

/** Issues a certificate from `role` (PKCS#8 key: Kafka's PEM keystores and librdkafka read it). */
export async function issueCert(admin: OpenBao, mount: string, role: string, commonName: string, extra: Record<string, unknown> = {}): Promise<IssuedCert> {
  const res = await admin.request('POST', `${mount}/issue/${role}`, { common_name: commonName, private_key_format: 'pkcs8', ...extra });
  const d = res.data as { certificate: string; private_key: string; issuing_ca: string; serial_number: string };
  return { cert: d.certificate, key: d.private_key, ca: d.issuing_ca, serial: d.serial_number, leaseId: typeof res.lease_id === 'string' ? res.lease_id : '', leaseDurationS: Number(res.lease_duration ?? 0) };
}

/** Writes an issued certificate as PEM files (cert, key, and key+cert for Kafka's PEM keystore). */
export function writeCert(dir: string, name: string, c: IssuedCert): { cert: string; key: string; keystore: string } {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const keystore = join(dir, `${name}-keystore.pem`);
  writeFileSync(cert, c.cert.endsWith('\n') ? c.cert : `${c.cert}\n`);
  writeFileSync(key, c.key.endsWith('\n') ? c.key : `${c.key}\n`, { mode: 0o600 });
  writeFileSync(keystore, `${c.key.trim()}\n${c.cert.trim()}\n`, { mode: 0o600 });
  return { cert, key, keystore };
}

/**
 * A policy and an AppRole for the plugin: it may issue from `role` and renew, look up and revoke leases (the default
 * policy already allows renew and lookup; revoke is added). Returns the role id and a fresh secret id.
 */
export async function pkiAppRole(admin: OpenBao, name: string, mount: string, role: string, ttl: { token_ttl: string; token_max_ttl: string }): Promise<{ roleId: string; secretId: string }> {
  await admin.enableAppRole();
  await admin.request('PUT', `sys/policies/acl/${name}`, {
    policy: [
      `path "${mount}/issue/${role}" { capabilities = ["create", "update"] }`,
      'path "sys/leases/revoke" { capabilities = ["update"] }',
      'path "sys/leases/renew" { capabilities = ["update"] }',
    ].join('\n'),
  });
  await admin.request('POST', `auth/approle/role/${name}`, { token_policies: [name], ...ttl });
  const roleId = ((await admin.request('GET', `auth/approle/role/${name}/role-id`)).data as { role_id: string }).role_id;
  const secretId = ((await admin.request('POST', `auth/approle/role/${name}/secret-id`)).data as { secret_id: string }).secret_id;
  return { roleId, secretId };
}

/** What `sys/leases/lookup` says about a lease: live (with its remaining TTL) or gone (revoked or expired). */
export async function leaseState(admin: OpenBao, leaseId: string): Promise<{ live: boolean; ttlS?: number }> {
  try {
    const res = await admin.request('PUT', 'sys/leases/lookup', { lease_id: leaseId });
    return { live: true, ttlS: Number((res.data as { ttl?: number }).ttl ?? 0) };
  } catch (e) {
    if (/HTTP 400/.test((e as Error).message) && /invalid lease/.test((e as Error).message)) return { live: false };
    throw e;
  }
}

/** Serial numbers the CA has revoked (its `certs/revoked` list), colon-separated hex as the engine writes them. */
export async function revokedSerials(admin: OpenBao, mount: string): Promise<string[]> {
  try {
    const res = await admin.request('LIST', `${mount}/certs/revoked`);
    return ((res.data as { keys?: string[] }).keys ?? []);
  } catch (e) {
    if (/HTTP 404/.test((e as Error).message)) return [];
    throw e;
  }
}
