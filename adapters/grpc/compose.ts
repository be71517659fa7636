import { hostname } from 'node:os';
import type { Config } from '../../core/config/schema.ts';
import { HealthMonitor } from '../../core/health-monitor.ts';
import type { GroupPort } from '../../core/kafka/group-port.ts';
import { createPlatformaticKafka } from '../../core/kafka/platformatic.ts';
import { createPlatformaticGroups } from '../../core/kafka/platformatic-groups.ts';
import { createPlatformaticProducer } from '../../core/kafka/platformatic-producer.ts';
import { createPlatformaticReader } from '../../core/kafka/platformatic-reader.ts';
import type { KafkaPort } from '../../core/kafka/port.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { ReaderPort } from '../../core/kafka/reader-port.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../core/metrics.ts';
import { SessionRegistry } from '../../core/queue/registry.ts';
import type { SecretScrubber } from '../../core/secrets-scrubber.ts';

/** Long-lived collaborators handed to handlers. */
export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  kafka: KafkaPort;
  producer: ProducerPort;
  /** Consumer groups (queue consume, offsets, seek). */
  groups: GroupPort;
  /** Open queue subscriptions, so Ack/Nack reach the stream that delivered a message. */
  sessions: SessionRegistry;
  /** Group-less reads for tail and query, and topic creation for CreateStream. */
  reader: ReaderPort;
  health: HealthMonitor;
  /** Request limits from config, one object per config (handlers cache schemas per deps). */
  limits: { maxMessageBytes: number };
  /** Prefix of generated subscriber ids. */
  memberPrefix: string;
  /**
   * Closes everything in order: subscriptions (without leaving their groups: static members keep their partitions
   * across a restart), then the producer (after its last acknowledgment), then the other clients. Idempotent.
   */
  close(): Promise<void>;
}

/** What outlives a reconfiguration: one logger, one metrics registry, one scrubber per process. */
export interface ProcessScope {
  log: Logger;
  metrics: Metrics;
  scrubber: SecretScrubber;
}

/**
 * The container runtime's composition root: the only place drivers are constructed. `overrides` is the test seam.
 * Builds nothing that touches the network; clients connect on first use.
 */
export function createDeps(config: Config, scope: ProcessScope, overrides: Partial<Deps> = {}): Deps {
  scope.scrubber.add(config.kafka.sasl.password);
  const kafka = overrides.kafka ?? createPlatformaticKafka(config);
  const producer = overrides.producer ?? createPlatformaticProducer(config);
  const groups = overrides.groups ?? createPlatformaticGroups(config);
  const reader = overrides.reader ?? createPlatformaticReader(config);
  const sessions = overrides.sessions ?? new SessionRegistry();
  const health = overrides.health ?? new HealthMonitor({
    kafka,
    pending: () => producer.pending(),
    topic: config.kafka.topic,
    brokers: config.kafka.brokers,
    intervalMs: 2_000,
    // Readiness needs a successful round trip within the last few seconds.
    staleAfterMs: 6_000,
    timeoutMs: 2_000,
  });
  scope.metrics.producerQueueSource(() => producer.pending());
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    health.stop();
    await sessions.closeAll(false);
    await producer.close();
    await Promise.all([groups.close(), reader.close(), kafka.close()]);
  })());
  return {
    config, log: scope.log, metrics: scope.metrics, kafka, producer, groups, sessions, reader, health,
    limits: { maxMessageBytes: config.kafka.maxMessageBytes },
    memberPrefix: `${hostname()}-${process.pid}`,
    close,
    ...overrides,
  };
}
