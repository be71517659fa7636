import { readFileSync } from 'node:fs';
import { ProduceAcks } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';

/**
 * Where the SASL user and password, or the mTLS client certificate, come from at each new connection (static config,
 * a rotating Vault secret, or a certificate from Vault's PKI engine).
 */
export interface SaslAuth {
  current(): { username: string; password: string; tls?: { cert: string; key: string } } | undefined;
}

/** The security protocol in force: the configured one, else SASL_PLAINTEXT when credentials are configured. */
export function securityProtocol(config: Config): 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SASL_SSL' | 'SSL' {
  if (config.kafka.securityProtocol !== undefined) return config.kafka.securityProtocol;
  if (pkiEnabled(config)) return 'SSL';
  return config.kafka.sasl.username !== undefined || config.vault.enabled ? 'SASL_PLAINTEXT' : 'PLAINTEXT';
}

/** Whether the client certificate comes from Vault's PKI engine (VAULT_PKI_ROLE) rather than files. */
export function pkiEnabled(config: Config): boolean {
  return config.vault.enabled && config.vault.pkiRole !== undefined;
}

/** Whether the config authenticates with SASL (for the start-up log line and health details). */
export function saslEnabled(config: Config): boolean {
  const protocol = securityProtocol(config);
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

/** SASL settings from our config; the user and password are read when a connection authenticates. */
function saslOptions(config: Config, auth: SaslAuth | undefined) {
  const { sasl } = config.kafka;
  const source: SaslAuth = auth ?? { current: () => (sasl.username === undefined ? undefined : { username: sasl.username, password: sasl.password ?? '' }) };
  const get = () => {
    const c = source.current();
    if (c === undefined) throw new PluginError('UNAVAILABLE', 'no Kafka credentials available yet');
    return c;
  };
  return { mechanism: sasl.mechanism, username: () => get().username, password: () => get().password };
}

function tlsOptions(config: Config, auth: SaslAuth | undefined) {
  const { tls } = config.kafka;
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
  const fixed = {
    ...(tls.caFile === undefined ? {} : { ca: read(tls.caFile) }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
  };
  if (!pkiEnabled(config) || auth === undefined) {
    return { ...fixed, ...(tls.certFile === undefined ? {} : { cert: read(tls.certFile) }), ...(tls.keyFile === undefined ? {} : { key: read(tls.keyFile) }) };
  }
  // The client copies these options into tls.connect() at every new connection ({ ...tls }, which reads getters):
  // each new connection presents the certificate current then, so a rotation reaches new connections at once.
  // Before the first certificate there is none to present (the broker refuses the handshake; health says why).
  return Object.defineProperties(fixed, {
    cert: { enumerable: true, get: () => auth.current()?.tls?.cert },
    key: { enumerable: true, get: () => auth.current()?.tls?.key },
  });
}

/** Options every platformatic client (admin, producer, consumer) shares, built from our config in one place. */
export function baseClientOptions(config: Config, role: string, auth?: SaslAuth) {
  const { kafka } = config;
  const protocol = securityProtocol(config);
  return {
    clientId: `${kafka.clientId}-${role}`,
    bootstrapBrokers: kafka.brokers,
    connectTimeout: kafka.connectTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    ...(protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? { sasl: saslOptions(config, auth) } : {}),
    ...(protocol === 'SSL' || protocol === 'SASL_SSL' ? { tls: tlsOptions(config, auth), ...(kafka.tls.serverName === undefined ? {} : { tlsServerName: kafka.tls.serverName }) } : {}),
  };
}

/** What a producer writes: publishes follow `acks`; dead letters always wait for every in-sync replica. */
export type ProducerPurpose = 'publish' | 'dead-letters';

const acksValue = { all: ProduceAcks.ALL, '1': ProduceAcks.LEADER, '0': ProduceAcks.NO_RESPONSE } as const;

/**
 * A producer client's options. A dead letter replaces its original, which is committed as soon as the write is
 * acknowledged: with acks 0 or 1 an acknowledged dead letter can still be lost (never stored, or only by a leader that
 * then fails), and the message with it. So dead-letter writes use acks=all with idempotence whatever `acks` says.
 */
export function producerClientOptions(config: Config, purpose: ProducerPurpose, auth?: SaslAuth) {
  const { kafka } = config;
  const acks = purpose === 'dead-letters' ? ProduceAcks.ALL : acksValue[kafka.acks];
  return {
    ...baseClientOptions(config, purpose === 'dead-letters' ? 'dead-letter-producer' : 'producer', auth),
    // Idempotence needs acks=all; it makes the client's retries safe from duplicates.
    idempotent: acks === ProduceAcks.ALL,
    acks,
    compression: kafka.compression,
    autocreateTopics: kafka.autoCreateTopics,
    retries: 5,
    retryDelay: 200,
  };
}

/** The start-up warning for acks 0 or 1, naming what is given up; undefined for acks=all. */
export function weakAcksWarning(config: Config): string | undefined {
  const { acks } = config.kafka;
  if (acks === 'all') return undefined;
  const what = acks === '0' ? 'the broker does not even confirm the write' : 'only the partition leader has stored it';
  return `acks=${acks}: publish answers when ${what}, so acknowledged records may be lost when a broker fails; dead-letter writes still use acks=all`;
}
