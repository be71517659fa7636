import { z } from 'zod';
import { pluginVersion } from '../version.ts';
import { tlsProblems } from './tls.ts';
import { tracingSchema } from './tracing.ts';

/**
 * The one configuration schema. Every source (environment, YAML file, command-line flags, Initialize's Struct)
 * is first normalised to these canonical paths, then parsed here once; types are inferred from it.
 * Each `error` text says what is expected, because it is printed to the operator as is.
 */

const port = (what: string) =>
  z.coerce
    .number({ error: `expected ${what}: a whole number from 0 to 65535` })
    .int({ error: `expected ${what}: a whole number from 0 to 65535` })
    .min(0, { error: `expected ${what}: a whole number from 0 to 65535` })
    .max(65535, { error: `expected ${what}: a whole number from 0 to 65535` });

/** Kafka's own rule for topic names (kafka.common.internals.Topic): 1–249 of [a-zA-Z0-9._-], not "." or "..". */
export const topicName = z
  .string({ error: 'expected a topic name' })
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, { error: 'expected a topic name of 1–249 characters from a-z A-Z 0-9 . _ -' })
  .refine((t) => t !== '.' && t !== '..', { error: 'expected a topic name other than "." or ".."' });

const hostPort = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?):([0-9]{1,5})$/;
export const brokerAddress = z
  .string()
  .refine((s) => {
    const m = hostPort.exec(s);
    return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
  }, { error: 'expected host:port (port 1–65535), e.g. localhost:9092' });

const positiveInt = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });

/** A duration: a number of milliseconds, or a string such as `250ms`, `2s`, `1m`. */
const duration = z
  .union([z.number(), z.string()], { error: 'expected a duration (milliseconds, or 250ms, 2s, 1m)' })
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v);
    if (m === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration (milliseconds, or 250ms, 2s, 1m)' });
      return z.NEVER;
    }
    return Number(m[1]) * (m[2] === 's' ? 1_000 : m[2] === 'm' ? 60_000 : 1);
  })
  .pipe(z.number().int({ error: 'expected a whole number of milliseconds' }).min(0, { error: 'expected a duration ≥ 0' }));

/** A duration whose bare number means seconds (PRISM_SHUTDOWN_GRACE_SECONDS=25), or `500ms`, `25s`, `1m`; parsed to ms. */
const seconds = z
  .union([z.number(), z.string()], { error: 'expected a duration (seconds, or 500ms, 25s, 1m)' })
  .transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(String(v));
    if (m === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration (seconds, or 500ms, 25s, 1m)' });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1_000));
  });

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], {
  error: 'expected true or false',
}).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const lowerEnum = <T extends string>(values: readonly [T, ...T[]]) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values, {
    error: `expected one of ${values.join(', ')}`,
  }));

/** Upper-cases and unifies the separator, so `scram_sha_512` and `sasl-plaintext` are accepted too. */
const upperEnum = <T extends string>(values: readonly [T, ...T[]], separator: '-' | '_') =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase().replaceAll(/[-_]/g, separator) : v), z.enum(values, {
    error: `expected one of ${values.join(', ')}`,
  }));

export const compressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const saslMechanisms = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;
export const securityProtocols = ['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL'] as const;

export const configSchema = z.object({
  plugin: z
    .object({
      name: z.string().min(1, { error: 'expected a non-empty name' }).default('kafka'),
      version: z.string().default(pluginVersion),
    })
    .prefault({}),
  namespace: z.string().min(1, { error: 'expected a non-empty namespace' }).default('default'),
  controlPlane: z
    .object({
      port: port('the gRPC/HTTP port').default(9091),
      host: z.string().min(1, { error: 'expected a listen address' }).default('0.0.0.0'),
      /** A second, HTTP-only port for probes and /metrics (HEALTH_PORT, --metrics-port); the main port keeps both. */
      metricsPort: port('the health/metrics HTTP port').optional(),
      /** Callback mode: the proxy's ProxyControlPlane address (-proxy-addr host:port). */
      proxyAddr: z
        .string({ error: 'expected host:port of the proxy' })
        .refine((s) => hostPort.test(s), { error: 'expected host:port of the proxy, e.g. localhost:9090' })
        .optional(),
      /** How long SIGTERM, Drain and Stop wait for in-flight calls, in ms (Kubernetes sends SIGKILL after 30 s). */
      shutdownGrace: seconds.default(25_000),
      /** Callback mode: how often a heartbeat goes to the proxy, in ms. */
      heartbeatInterval: seconds.refine((ms) => ms >= 50, { error: 'expected at least 50ms' }).default(10_000),
      /**
       * TLS on the main port (gRPC and the HTTP probes): PEM certificate and key; with a client CA, clients must
       * present a certificate it signed (mTLS). Absent when none is set. Files are checked at load time (tls.ts).
       */
      tls: z
        .object({
          certFile: z.string().min(1, { error: 'expected a file path' }).optional(),
          keyFile: z.string().min(1, { error: 'expected a file path' }).optional(),
          clientCaFile: z.string().min(1, { error: 'expected a file path' }).optional(),
        })
        .optional(),
      /**
       * How often the `tls` files are checked for a new certificate, in ms (a bare number is seconds); 0: never, read at
       * start only. Absent when not set: the listener uses tls.ts's defaultTlsReloadMs.
       */
      tlsReloadInterval: seconds.refine((ms) => ms === 0 || ms >= 100, { error: 'expected 0 (no reload) or at least 100ms' }).optional(),
    })
    .prefault({}),
  kafka: z
    .object({
      brokers: z
        .array(brokerAddress, { error: 'expected a comma-separated list of host:port' })
        .min(1, { error: 'expected at least one host:port' })
        .default(['localhost:9092']),
      clientId: z.string().min(1, { error: 'expected a non-empty client id' }).default('prism-kafka-plugin'),
      topic: topicName.default('events'),
      consumerGroup: z.string().min(1, { error: 'expected a non-empty group id' }).default('prism-consumers'),
      compression: lowerEnum(compressions).default('snappy'),
      acks: z
        .preprocess((v) => (v === -1 || v === '-1' ? 'all' : typeof v === 'number' ? String(v) : v), z.enum(['all', '1', '0'], {
          error: 'expected one of all, 1, 0',
        }))
        .default('all'),
      autoOffsetReset: lowerEnum(['earliest', 'latest']).default('earliest'),
      securityProtocol: upperEnum(securityProtocols, '_').optional(),
      sasl: z
        .object({
          mechanism: upperEnum(saslMechanisms, '-').default('SCRAM-SHA-512'),
          username: z.string().min(1, { error: 'expected a non-empty user name' }).optional(),
          password: z.string().min(1, { error: 'expected a non-empty password' }).optional(),
        })
        .prefault({}),
      tls: z
        .object({
          caFile: z.string().min(1).optional(),
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
          serverName: z.string().min(1).optional(),
        })
        .prefault({}),
      maxMessageBytes: positiveInt('a positive number of bytes').default(1_048_576),
      autoCreateTopics: bool.default(true),
      requestTimeoutMs: positiveInt('a positive number of milliseconds').default(30_000),
      connectTimeoutMs: positiveInt('a positive number of milliseconds').default(5_000),
    })
    .prefault({}),
  consumer: z
    .object({
      /** Stable member id (group.instance.id) when the caller gives none; default derived per subscription. */
      subscriberId: z.string().min(1, { error: 'expected a non-empty subscriber id' }).max(200, { error: 'expected at most 200 characters' }).optional(),
      maxUnacked: positiveInt('a positive number of messages').default(100),
      prefetch: positiveInt('a positive number of records').default(256),
      sessionTimeoutMs: duration.refine((ms) => ms >= 6_000, { error: 'expected at least 6s (the broker minimum by default)' }).default(10_000),
      maxRetries: z.coerce.number({ error: 'expected a whole number ≥ 0' }).int({ error: 'expected a whole number ≥ 0' }).min(0, { error: 'expected a whole number ≥ 0' }).default(3),
      initialBackoffMs: duration.default(100),
      maxBackoffMs: duration.default(10_000),
      backoffFactor: z.coerce.number({ error: 'expected a number ≥ 1' }).min(1, { error: 'expected a number ≥ 1' }).default(2),
      deadLetterTopic: topicName.optional(),
      /** Upstream keys accepted for compatibility; delivery semantics are fixed per API (see README). */
      ackMode: lowerEnum(['auto', 'manual', 'client']).optional(),
      concurrency: positiveInt('a positive number').optional(),
      batchSize: positiveInt('a positive number').optional(),
    })
    .prefault({}),
  vault: z
    .object({
      enabled: bool.default(false),
      /** Server address; VAULT_ADDR. */
      addr: z.url({ error: 'expected a URL such as https://vault.example:8200' }).optional(),
      namespace: z.string().min(1, { error: 'expected a non-empty namespace' }).optional(),
      /** PEM CA bundle that signed the server's certificate, for an https:// address (VAULT_CACERT, as Vault's CLI). */
      caCertFile: z.string().min(1, { error: 'expected a file path' }).optional(),
      /** Secret path: a dynamic secret (`kafka/creds/<role>`, with a lease) or a KV v2 path (`secret/data/<name>`). */
      path: z.string().regex(/^[a-zA-Z0-9._/-]+$/, { error: 'expected a secret path such as kafka/creds/prism or secret/data/prism' }).optional(),
      auth: lowerEnum(['token', 'approle', 'kubernetes', 'jwt']).default('token'),
      token: z.string().min(1, { error: 'expected a non-empty token' }).optional(),
      tokenFile: z.string().min(1).default('/var/run/secrets/vault-token'),
      roleId: z.string().min(1, { error: 'expected a non-empty role id' }).optional(),
      secretId: z.string().min(1, { error: 'expected a non-empty secret id' }).optional(),
      secretIdFile: z.string().min(1).optional(),
      /** Role for Kubernetes and JWT login. */
      role: z.string().min(1, { error: 'expected a non-empty role' }).optional(),
      jwtFile: z.string().min(1).default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
      /** Mount path of the auth method, when not the default (`approle`, `kubernetes`, `jwt`). */
      authMount: z.string().regex(/^[a-zA-Z0-9._/-]+$/, { error: 'expected a mount path' }).optional(),
      /** How often a KV secret (no lease) is re-read to notice rotation. */
      kvRefreshMs: duration.default(30_000),
      /** Fetch new credentials this long before they expire (or reach max TTL). */
      renewMarginMs: duration.default(10_000),
      /**
       * Kafka mTLS client certificates from the PKI engine instead of SASL credentials: the role to issue from
       * (`<pkiMount>/issue/<pkiRole>`, with generate_lease so the certificate has a lease). Setting it selects the PKI source.
       */
      pkiRole: z.string().regex(/^[a-zA-Z0-9._-]+$/, { error: 'expected a PKI role name such as kafka-client' }).optional(),
      /** Mount path of the PKI engine. */
      pkiMount: z.string().regex(/^[a-zA-Z0-9._/-]+$/, { error: 'expected a mount path such as pki' }).default('pki'),
      /** The certificate's CN: the broker maps it to the principal its ACLs name. */
      pkiCommonName: z.string().min(1, { error: 'expected the certificate common name, e.g. prism-kafka-plugin' }).optional(),
      /** Certificate lifetime to ask for; the role's ttl when unset (the role's max_ttl caps it either way). */
      pkiTtlMs: duration.optional(),
      /** Reissue when this fraction of the certificate's life has passed (0 < f < 1). */
      pkiRenewFraction: z.coerce.number({ error: 'expected a fraction between 0 and 1, e.g. 0.67' })
        .gt(0, { error: 'expected a fraction between 0 and 1, e.g. 0.67' }).lt(1, { error: 'expected a fraction between 0 and 1, e.g. 0.67' }).default(0.67),
    })
    .prefault({}),
  log: z
    .object({
      level: lowerEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      format: lowerEnum(['json']).default('json'),
    })
    .prefault({}),
  /** OpenTelemetry tracing from the standard OTEL_* variables (core/config/tracing.ts). */
  tracing: tracingSchema,
});

export type Config = z.infer<typeof configSchema>;

/** Rules across fields, checked after the schema (each names the field to fix). */
export function crossFieldProblems(c: Config): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const pki = c.vault.enabled && c.vault.pkiRole !== undefined;
  if (c.vault.enabled && !pki && c.vault.path === undefined) out.push({ path: 'vault.path', message: 'expected a secret path (vault_path / VAULT_PATH) when Vault is enabled' });
  if (pki && c.vault.pkiCommonName === undefined) out.push({ path: 'vault.pkiCommonName', message: 'expected the certificate common name (VAULT_PKI_COMMON_NAME) for PKI certificates' });
  if (pki && c.kafka.securityProtocol !== undefined && c.kafka.securityProtocol !== 'SSL') out.push({ path: 'kafka.securityProtocol', message: `expected SSL (or unset) with PKI client certificates, got ${c.kafka.securityProtocol}` });
  if (pki && c.kafka.tls.certFile !== undefined) out.push({ path: 'kafka.tls.certFile', message: 'expected no client certificate file when the PKI engine issues the client certificate' });
  if (c.vault.enabled && c.kafka.sasl.username !== undefined) out.push({ path: 'kafka.sasl.username', message: 'expected no static SASL user when Vault supplies the credentials' });
  if (c.vault.enabled && c.vault.auth === 'approle' && c.vault.roleId === undefined) out.push({ path: 'vault.roleId', message: 'expected VAULT_ROLE_ID for AppRole login' });
  const tls = c.kafka.tls;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) out.push({ path: 'kafka.tls.certFile', message: 'expected both a client certificate and its key file, or neither' });
  out.push(...tlsProblems(c));
  return out;
}
export type Compression = (typeof compressions)[number];

/** Paths whose values are secrets: never printed, never logged. */
export const secretPaths = new Set(['kafka.sasl.password', 'vault.token', 'vault.secretId']);
