import type { Config } from '../config/schema.ts';

/** Options every platformatic client (admin, producer, consumer) shares, built from our config in one place. */
export function baseClientOptions(config: Config, role: string) {
  const { kafka } = config;
  const sasl = kafka.sasl.username === undefined
    ? undefined
    : { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password ?? '' };
  const protocol = kafka.securityProtocol ?? (sasl === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT');
  return {
    clientId: `${kafka.clientId}-${role}`,
    bootstrapBrokers: kafka.brokers,
    connectTimeout: kafka.connectTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    ...(protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? { sasl } : {}),
    ...(protocol === 'SSL' || protocol === 'SASL_SSL' ? { tls: {} } : {}),
  };
}

/** Whether the config authenticates with SASL (for the start-up log line and health details). */
export function saslEnabled(config: Config): boolean {
  const protocol = config.kafka.securityProtocol ?? (config.kafka.sasl.username === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT');
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}
