import { hostname } from 'node:os';
import type { Collaborators } from '../../core/collaborators.ts';
import type { Config } from '../../core/config/schema.ts';
import { HealthMonitor } from '../../core/health-monitor.ts';
import type { ProcessScope } from '../../core/process-scope.ts';
import { kafkaClients, RotatingProducer, weakAcksWarning } from '../../core/kafka/index.ts';
import { SessionRegistry } from '../../core/queue/registry.ts';

/**
 * Long-lived collaborators handed to handlers in function mode: one set per connection-cache entry. The dead-letter
 * producer is built only if one is written (function mode has no nack); queue sessions live for one consume_batch
 * invocation; health is probed on demand, never started (a frozen function must not own timers); `close` leaves the
 * groups of sessions still open (an invocation cut short).
 */
export type FunctionDeps = Collaborators;

/** The function runtime's process scope (one logger, metrics registry and scrubber outliving rebuilt connections). */
export type FunctionScope = ProcessScope;

/**
 * The function runtime's composition root: the only place it constructs drivers. Builds nothing that touches the
 * network; clients connect on first use and are then reused by every warm invocation. `overrides` is the test seam.
 */
export function createFunctionDeps(config: Config, scope: FunctionScope, overrides: Partial<FunctionDeps> = {}): FunctionDeps {
  scope.scrubber.add(config.kafka.sasl.password);
  const clients = kafkaClients(config, { report: (err, doing) => scope.log.warn({ err }, doing) });
  const kafka = overrides.kafka ?? clients.cluster();
  const producer = overrides.producer ?? clients.producer();
  // An injected producer (tests) writes the dead letters too, unless one is injected for them.
  const deadLetters = overrides.deadLetters ?? (overrides.producer === undefined
    ? new RotatingProducer(() => clients.producer('dead-letters'), { lazy: true }) : producer);
  const weakAcks = weakAcksWarning(config);
  if (weakAcks !== undefined) scope.log.warn({ acks: config.kafka.acks }, weakAcks);
  const groups = overrides.groups ?? clients.groups();
  const reader = overrides.reader ?? clients.reader();
  const sessions = overrides.sessions ?? new SessionRegistry();
  const health = overrides.health ?? new HealthMonitor({
    kafka,
    pending: () => producer.pending(),
    topic: config.kafka.topic,
    brokers: config.kafka.brokers,
  });
  scope.metrics.producerQueueSource(() => producer.pending());
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    // A session still open here belongs to an invocation cut short; leaving moves its partitions at once.
    await sessions.closeAll(true);
    await Promise.all([producer.close(), deadLetters.close()]);
    await Promise.all([groups.close(), reader.close(), kafka.close()]);
  })());
  return {
    config, log: scope.log, metrics: scope.metrics, kafka, producer, deadLetters, groups, sessions, reader, health,
    limits: { maxMessageBytes: config.kafka.maxMessageBytes },
    memberPrefix: `fn-${hostname()}-${process.pid}`,
    close,
    ...overrides,
  };
}
