import { hostname } from 'node:os';
import type { Collaborators } from '../../core/collaborators.ts';
import type { Config } from '../../core/config/schema.ts';
import { HealthMonitor } from '../../core/health-monitor.ts';
import type { ProcessScope } from '../../core/process-scope.ts';
import { kafkaClients, RotatingCluster, RotatingProducer, RotatingReader, probeCredentials, weakAcksWarning, type KafkaPort } from '../../core/kafka/index.ts';
import { isPluginError } from '../../core/errors.ts';
import { observeQueues } from '../../core/lag/observer.ts';
import type { OpenSubscriptions } from '../../core/lag/subscriptions.ts';
import { SessionRegistry } from '../../core/queue/registry.ts';
import type { CredentialSource } from '../../core/secrets/credentials.ts';
import { createCredentialSource } from '../../core/secrets/create.ts';

/** Long-lived collaborators handed to handlers in the container runtime. */
export interface Deps extends Collaborators {
  /** Open subscriptions as the lag and unacked metrics see them. */
  subscriptions: OpenSubscriptions;
  /** Kafka SASL credentials: static, or from Vault with renewal and rotation. */
  credentials: CredentialSource;
  /**
   * Closes everything in order: subscriptions (without leaving their groups: static members keep their partitions
   * across a restart), then the producer (after its last acknowledgment), then the other clients. Idempotent.
   */
  close(): Promise<void>;
}

export type { ProcessScope } from '../../core/process-scope.ts';

/**
 * The container runtime's composition root: the only place drivers are constructed. `overrides` is the test seam.
 * Builds nothing that touches the network; clients connect on first use.
 */
export function createDeps(config: Config, scope: ProcessScope, overrides: Partial<Deps> = {}): Deps {
  scope.scrubber.add(config.kafka.sasl.password);
  const credentials = overrides.credentials ?? createCredentialSource(config, scope.log, scope.scrubber, scope.metrics.credentials);
  // Every client reads the credentials when it opens a connection, so new connections always use the current ones.
  const auth = { current: () => credentials.current() };
  const clients = kafkaClients(config, { auth, report: (err, doing) => scope.log.warn({ err }, doing) });
  // Admin/health and reader clients are replaced on rotation too (new connections, current credentials).
  const rotatingCluster = overrides.kafka === undefined ? new RotatingCluster(() => clients.cluster()) : undefined;
  const cluster = overrides.kafka ?? rotatingCluster!;
  // A broker that refuses the credentials (revoked lease, deleted user) makes the source fetch them again.
  const kafka: KafkaPort = {
    ping: (options) => cluster.ping(options).catch((err: unknown) => {
      if (isPluginError(err) && err.code === 'UNAUTHENTICATED') credentials.rejected();
      throw err;
    }),
    close: () => cluster.close(),
  };
  // Only a producer we build can be rotated; an injected one (tests) is used as it is.
  const rotating = overrides.producer === undefined ? new RotatingProducer(() => clients.producer()) : undefined;
  const producer = overrides.producer ?? rotating!;
  // An injected producer (tests) writes the dead letters too, unless one is injected for them.
  const deadRotating = overrides.deadLetters === undefined && overrides.producer === undefined
    ? new RotatingProducer(() => clients.producer('dead-letters'), { lazy: true }) : undefined;
  const deadLetters = overrides.deadLetters ?? deadRotating ?? producer;
  const weakAcks = weakAcksWarning(config);
  if (weakAcks !== undefined) scope.log.warn({ acks: config.kafka.acks }, weakAcks);
  const groups = overrides.groups ?? clients.groups();
  const rotatingReader = overrides.reader === undefined ? new RotatingReader(() => clients.reader()) : undefined;
  const reader = overrides.reader ?? rotatingReader!;
  const sessions = overrides.sessions ?? new SessionRegistry();
  // The configured default group's lag is reported even when no subscription opens here (alerts need it most then).
  const queues = observeQueues({ groups, sessions, metrics: scope.metrics, log: scope.log, configured: [{ group: config.kafka.consumerGroup, topic: config.kafka.topic }] });
  const health = overrides.health ?? new HealthMonitor({
    kafka,
    pending: () => producer.pending(),
    topic: config.kafka.topic,
    brokers: config.kafka.brokers,
    consumerLag: () => queues.lag.total(),
    credentials: () => credentials.status(),
  });
  scope.metrics.credentials.ttlSource(() => {
    const status = credentials.status();
    return { source: status.source, ...(status.expiresInS === undefined ? {} : { expiresInS: status.expiresInS }) };
  });
  // Rotation: new credentials (a SASL user, or a client certificate) are probed at the brokers first; then the
  // producer and the consumer groups move to clients that use them (no publish fails; group members keep their
  // membership and receipts), and the admin/health and reader clients to new ones (calls in flight finish on the old
  // ones); old leases go last.
  credentials.setVerifier((next) => probeCredentials(config, next));
  credentials.onRotate(async (next, previous) => {
    rotatingCluster?.rotate();
    rotatingReader?.rotate();
    await Promise.all([rotating?.rotate(), sessions.reconnectAll()]);
    await deadRotating?.rotate();
    scope.log.info({ username: next.username, previous_username: previous?.username, source: next.source, credential_version: next.version, previous_credential_version: previous?.version }, 'kafka clients moved to the new credentials');
  });
  scope.metrics.producerQueueSource(() => producer.pending());
  scope.metrics.healthSource(() => health.report().status);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    health.stop();
    queues.stop();
    await sessions.closeAll(false);
    await Promise.all([producer.close(), deadLetters.close()]);
    await Promise.all([groups.close(), reader.close(), kafka.close()]);
    // Revoke the lease only once nothing uses the credentials any more.
    await credentials.close();
  })());
  return {
    config, log: scope.log, metrics: scope.metrics, kafka, producer, deadLetters, groups, sessions, reader, health, credentials,
    subscriptions: queues.subscriptions,
    limits: { maxMessageBytes: config.kafka.maxMessageBytes },
    memberPrefix: `${hostname()}-${process.pid}`,
    close,
    ...overrides,
  };
}
