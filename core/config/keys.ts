/**
 * Where each configuration value may come from, in every spelling upstream Prism uses (prism-contracts.md §6).
 */

export type Parse = 'string' | 'list' | 'connection';

/** Environment variables → canonical path. */
export const envKeys: Record<string, { path: string; parse: Parse }> = {
  KAFKA_BROKERS: { path: 'kafka.brokers', parse: 'list' },
  KAFKA_TOPIC: { path: 'kafka.topic', parse: 'string' },
  KAFKA_CONSUMER_GROUP: { path: 'kafka.consumerGroup', parse: 'string' },
  KAFKA_AUTO_OFFSET_RESET: { path: 'kafka.autoOffsetReset', parse: 'string' },
  KAFKA_COMPRESSION: { path: 'kafka.compression', parse: 'string' },
  KAFKA_ACKS: { path: 'kafka.acks', parse: 'string' },
  KAFKA_CLIENT_ID: { path: 'kafka.clientId', parse: 'string' },
  KAFKA_SECURITY_PROTOCOL: { path: 'kafka.securityProtocol', parse: 'string' },
  KAFKA_SASL_MECHANISM: { path: 'kafka.sasl.mechanism', parse: 'string' },
  KAFKA_SASL_USERNAME: { path: 'kafka.sasl.username', parse: 'string' },
  KAFKA_SASL_PASSWORD: { path: 'kafka.sasl.password', parse: 'string' },
  KAFKA_MAX_MESSAGE_BYTES: { path: 'kafka.maxMessageBytes', parse: 'string' },
  KAFKA_AUTO_CREATE_TOPICS: { path: 'kafka.autoCreateTopics', parse: 'string' },
  KAFKA_REQUEST_TIMEOUT_MS: { path: 'kafka.requestTimeoutMs', parse: 'string' },
  KAFKA_DEAD_LETTER_TOPIC: { path: 'consumer.deadLetterTopic', parse: 'string' },
  PRISM_CONSUMER_MAX_UNACKED: { path: 'consumer.maxUnacked', parse: 'string' },
  PRISM_CONSUMER_MAX_RETRIES: { path: 'consumer.maxRetries', parse: 'string' },
  PRISM_CONSUMER_SESSION_TIMEOUT_MS: { path: 'consumer.sessionTimeoutMs', parse: 'string' },
  PRISM_LOG_LEVEL: { path: 'log.level', parse: 'string' },
  PRISM_LOG_FORMAT: { path: 'log.format', parse: 'string' },
  PRISM_NAMESPACE: { path: 'namespace', parse: 'string' },
  PRISM_CONTROL_PLANE_PORT: { path: 'controlPlane.port', parse: 'string' },
  PRISM_LISTEN_HOST: { path: 'controlPlane.host', parse: 'string' },
};

/** The env var naming the YAML file. */
export const configFileEnv = 'PRISM_PLUGIN_CONFIG';

/**
 * Backend keys (YAML `backend:` section, Initialize's Struct), compared after lower-casing and dropping `_`/`-`, so
 * `consumer_group`, `consumergroup` and `consumerGroup` are one key.
 */
export const backendKeys: Record<string, { path: string; parse: Parse }> = {
  brokers: { path: 'kafka.brokers', parse: 'list' },
  bootstrapservers: { path: 'kafka.brokers', parse: 'list' },
  connection: { path: 'kafka.brokers', parse: 'connection' },
  connectionstring: { path: 'kafka.brokers', parse: 'connection' },
  topic: { path: 'kafka.topic', parse: 'string' },
  consumergroup: { path: 'kafka.consumerGroup', parse: 'string' },
  groupid: { path: 'kafka.consumerGroup', parse: 'string' },
  clientid: { path: 'kafka.clientId', parse: 'string' },
  compression: { path: 'kafka.compression', parse: 'string' },
  acks: { path: 'kafka.acks', parse: 'string' },
  autooffsetreset: { path: 'kafka.autoOffsetReset', parse: 'string' },
  securityprotocol: { path: 'kafka.securityProtocol', parse: 'string' },
  saslmechanism: { path: 'kafka.sasl.mechanism', parse: 'string' },
  saslusername: { path: 'kafka.sasl.username', parse: 'string' },
  saslpassword: { path: 'kafka.sasl.password', parse: 'string' },
  maxmessagebytes: { path: 'kafka.maxMessageBytes', parse: 'string' },
  autocreatetopics: { path: 'kafka.autoCreateTopics', parse: 'string' },
  requesttimeoutms: { path: 'kafka.requestTimeoutMs', parse: 'string' },
  connecttimeoutms: { path: 'kafka.connectTimeoutMs', parse: 'string' },
  vaultenabled: { path: 'vault.enabled', parse: 'string' },
  vaultpath: { path: 'vault.path', parse: 'string' },
};

/** Keys of RFC-011's nested `connection: {…}` object. */
export const connectionObjectKeys: Record<string, { path: string; parse: Parse }> = {
  brokers: { path: 'kafka.brokers', parse: 'list' },
  securityprotocol: { path: 'kafka.securityProtocol', parse: 'string' },
  saslmechanism: { path: 'kafka.sasl.mechanism', parse: 'string' },
};

/** Top-level YAML sections and their plain keys. */
export const sectionKeys: Record<string, Record<string, string>> = {
  plugin: { name: 'plugin.name', version: 'plugin.version' },
  controlplane: { port: 'controlPlane.port', host: 'controlPlane.host' },
  logging: { level: 'log.level', format: 'log.format' },
  // The SDK's consumer section; retry_policy's keys arrive flattened as `retrypolicy.<key>`.
  consumer: {
    topic: 'kafka.topic',
    subscriberid: 'consumer.subscriberId',
    maxunacked: 'consumer.maxUnacked',
    prefetch: 'consumer.prefetch',
    sessiontimeoutms: 'consumer.sessionTimeoutMs',
    ackmode: 'consumer.ackMode',
    concurrency: 'consumer.concurrency',
    batchsize: 'consumer.batchSize',
    'retrypolicy.maxretries': 'consumer.maxRetries',
    'retrypolicy.initialbackoff': 'consumer.initialBackoffMs',
    'retrypolicy.maxbackoff': 'consumer.maxBackoffMs',
    'retrypolicy.backofffactor': 'consumer.backoffFactor',
    'retrypolicy.deadlettertopic': 'consumer.deadLetterTopic',
  },
};

export const normaliseKey = (key: string): string => key.toLowerCase().replaceAll(/[_-]/g, '');
