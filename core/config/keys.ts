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
  KAFKA_TLS_CA_FILE: { path: 'kafka.tls.caFile', parse: 'string' },
  KAFKA_TLS_CERT_FILE: { path: 'kafka.tls.certFile', parse: 'string' },
  KAFKA_TLS_KEY_FILE: { path: 'kafka.tls.keyFile', parse: 'string' },
  KAFKA_TLS_SERVER_NAME: { path: 'kafka.tls.serverName', parse: 'string' },
  PRISM_TLS_CERT_FILE: { path: 'controlPlane.tls.certFile', parse: 'string' },
  PRISM_TLS_KEY_FILE: { path: 'controlPlane.tls.keyFile', parse: 'string' },
  PRISM_TLS_CLIENT_CA_FILE: { path: 'controlPlane.tls.clientCaFile', parse: 'string' },
  PRISM_TLS_RELOAD_INTERVAL: { path: 'controlPlane.tlsReloadInterval', parse: 'string' },
  VAULT_ENABLED: { path: 'vault.enabled', parse: 'string' },
  VAULT_ADDR: { path: 'vault.addr', parse: 'string' },
  VAULT_NAMESPACE: { path: 'vault.namespace', parse: 'string' },
  VAULT_CACERT: { path: 'vault.caCertFile', parse: 'string' },
  VAULT_PATH: { path: 'vault.path', parse: 'string' },
  VAULT_AUTH_METHOD: { path: 'vault.auth', parse: 'string' },
  VAULT_TOKEN: { path: 'vault.token', parse: 'string' },
  VAULT_TOKEN_FILE: { path: 'vault.tokenFile', parse: 'string' },
  VAULT_ROLE_ID: { path: 'vault.roleId', parse: 'string' },
  VAULT_SECRET_ID: { path: 'vault.secretId', parse: 'string' },
  VAULT_SECRET_ID_FILE: { path: 'vault.secretIdFile', parse: 'string' },
  VAULT_ROLE: { path: 'vault.role', parse: 'string' },
  VAULT_JWT_FILE: { path: 'vault.jwtFile', parse: 'string' },
  VAULT_AUTH_MOUNT: { path: 'vault.authMount', parse: 'string' },
  VAULT_KV_REFRESH: { path: 'vault.kvRefreshMs', parse: 'string' },
  VAULT_RENEW_MARGIN: { path: 'vault.renewMarginMs', parse: 'string' },
  VAULT_PKI_ROLE: { path: 'vault.pkiRole', parse: 'string' },
  VAULT_PKI_MOUNT: { path: 'vault.pkiMount', parse: 'string' },
  VAULT_PKI_COMMON_NAME: { path: 'vault.pkiCommonName', parse: 'string' },
  VAULT_PKI_TTL: { path: 'vault.pkiTtlMs', parse: 'string' },
  VAULT_PKI_RENEW_FRACTION: { path: 'vault.pkiRenewFraction', parse: 'string' },
  PRISM_LOG_LEVEL: { path: 'log.level', parse: 'string' },
  PRISM_LOG_FORMAT: { path: 'log.format', parse: 'string' },
  PRISM_NAMESPACE: { path: 'namespace', parse: 'string' },
  PRISM_CONTROL_PLANE_PORT: { path: 'controlPlane.port', parse: 'string' },
  PRISM_LISTEN_HOST: { path: 'controlPlane.host', parse: 'string' },
  // Launch modes (prism-contracts.md §5). The pattern launcher's GRPC_PORT and HEALTH_PORT come later in this table, so
  // they win over our own names: the launcher polls exactly the ports it allocated.
  GRPC_PORT: { path: 'controlPlane.port', parse: 'string' },
  PRISM_METRICS_PORT: { path: 'controlPlane.metricsPort', parse: 'string' },
  HEALTH_PORT: { path: 'controlPlane.metricsPort', parse: 'string' },
  PRISM_PROXY_ADDR: { path: 'controlPlane.proxyAddr', parse: 'string' },
  PRISM_SHUTDOWN_GRACE_SECONDS: { path: 'controlPlane.shutdownGrace', parse: 'string' },
  PRISM_HEARTBEAT_INTERVAL: { path: 'controlPlane.heartbeatInterval', parse: 'string' },
  // OpenTelemetry's standard variables (README "Tracing"); the signal-specific protocol comes later, so it wins.
  OTEL_SDK_DISABLED: { path: 'tracing.sdkDisabled', parse: 'string' },
  OTEL_TRACES_EXPORTER: { path: 'tracing.exporter', parse: 'string' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { path: 'tracing.endpoint', parse: 'string' },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { path: 'tracing.tracesEndpoint', parse: 'string' },
  OTEL_EXPORTER_OTLP_PROTOCOL: { path: 'tracing.protocol', parse: 'string' },
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: { path: 'tracing.protocol', parse: 'string' },
  OTEL_SERVICE_NAME: { path: 'tracing.serviceName', parse: 'string' },
  OTEL_RESOURCE_ATTRIBUTES: { path: 'tracing.resourceAttributes', parse: 'string' },
  OTEL_TRACES_SAMPLER: { path: 'tracing.sampler', parse: 'string' },
  OTEL_TRACES_SAMPLER_ARG: { path: 'tracing.samplerArg', parse: 'string' },
  OTEL_BSP_SCHEDULE_DELAY: { path: 'tracing.batch.scheduleDelayMs', parse: 'string' },
  OTEL_BSP_MAX_QUEUE_SIZE: { path: 'tracing.batch.maxQueueSize', parse: 'string' },
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: { path: 'tracing.batch.maxExportBatchSize', parse: 'string' },
  OTEL_BSP_EXPORT_TIMEOUT: { path: 'tracing.batch.exportTimeoutMs', parse: 'string' },
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
  vaultaddr: { path: 'vault.addr', parse: 'string' },
  vaultnamespace: { path: 'vault.namespace', parse: 'string' },
  vaultcacert: { path: 'vault.caCertFile', parse: 'string' },
  vaultcacertfile: { path: 'vault.caCertFile', parse: 'string' },
  vaultauth: { path: 'vault.auth', parse: 'string' },
  vaultrole: { path: 'vault.role', parse: 'string' },
  vaultroleid: { path: 'vault.roleId', parse: 'string' },
  vaultsecretidfile: { path: 'vault.secretIdFile', parse: 'string' },
  vaulttokenfile: { path: 'vault.tokenFile', parse: 'string' },
  vaultkvrefresh: { path: 'vault.kvRefreshMs', parse: 'string' },
  vaultpkirole: { path: 'vault.pkiRole', parse: 'string' },
  vaultpkimount: { path: 'vault.pkiMount', parse: 'string' },
  vaultpkicommonname: { path: 'vault.pkiCommonName', parse: 'string' },
  vaultpkittl: { path: 'vault.pkiTtlMs', parse: 'string' },
  vaultpkirenewfraction: { path: 'vault.pkiRenewFraction', parse: 'string' },
  tlscafile: { path: 'kafka.tls.caFile', parse: 'string' },
  tlscertfile: { path: 'kafka.tls.certFile', parse: 'string' },
  tlskeyfile: { path: 'kafka.tls.keyFile', parse: 'string' },
  tlsservername: { path: 'kafka.tls.serverName', parse: 'string' },
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
  controlplane: {
    port: 'controlPlane.port',
    host: 'controlPlane.host',
    metricsport: 'controlPlane.metricsPort',
    proxyaddr: 'controlPlane.proxyAddr',
    shutdowngrace: 'controlPlane.shutdownGrace',
    heartbeatinterval: 'controlPlane.heartbeatInterval',
    // `tls: {cert_file, key_file, client_ca_file}` arrives flattened as `tls.<key>`; `tls_cert_file` is accepted too.
    'tls.certfile': 'controlPlane.tls.certFile',
    'tls.keyfile': 'controlPlane.tls.keyFile',
    'tls.clientcafile': 'controlPlane.tls.clientCaFile',
    tlscertfile: 'controlPlane.tls.certFile',
    tlskeyfile: 'controlPlane.tls.keyFile',
    tlsclientcafile: 'controlPlane.tls.clientCaFile',
    'tls.reloadinterval': 'controlPlane.tlsReloadInterval',
    tlsreloadinterval: 'controlPlane.tlsReloadInterval',
  },
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
