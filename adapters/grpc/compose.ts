import type { Config } from '../../core/config/schema.ts';
import { HealthMonitor } from '../../core/health-monitor.ts';
import { createPlatformaticKafka } from '../../core/kafka/platformatic.ts';
import { createPlatformaticProducer } from '../../core/kafka/platformatic-producer.ts';
import type { KafkaPort } from '../../core/kafka/port.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { SecretScrubber } from '../../core/secrets-scrubber.ts';

/** Long-lived collaborators handed to handlers. */
export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  kafka: KafkaPort;
  producer: ProducerPort;
  health: HealthMonitor;
  /** Request limits from config, one object per config (handlers cache schemas per deps). */
  limits: { maxMessageBytes: number };
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
  return { config, log: scope.log, metrics: scope.metrics, kafka, producer, health, limits: { maxMessageBytes: config.kafka.maxMessageBytes }, ...overrides };
}
