import { Counter, Gauge, Registry } from 'prom-client';
import { healthStatusValue, type HealthStatus } from '../health-monitor.ts';
import { pluginVersion } from '../version.ts';
import { createBuildInfo } from './build-info.ts';
import { createCredentialMetrics } from './credentials.ts';
import { createDurationMetrics } from './durations.ts';
import { registerProcessMetrics } from './process.ts';
import { createQueueMetrics } from './queue.ts';
import { createTlsMetrics } from './tls.ts';

/**
 * The plugin's metrics on its own Registry (never prom-client's global one, so two runtimes or tests in one
 * process do not collide). Label values are bounded: operation names, status codes, topics — never ids or keys.
 * Every name passes `promtool check metrics`.
 */
export function createMetrics(options: { namespace: string; defaultMetrics?: boolean; build?: { version: string; nodeVersion: string } }) {
  const registry = new Registry();
  registry.setDefaultLabels({ namespace: options.namespace });
  if (options.defaultMetrics !== false) registerProcessMetrics(registry);
  const registers = [registry];
  // Initialize replaces the producer and the health monitor; these gauges read whichever is current at scrape time.
  let producerQueue: () => number = () => 0;
  let health: (() => HealthStatus) | undefined;
  return {
    producerQueueSource: (source: () => number) => {
      producerQueue = source;
    },
    healthSource: (source: () => HealthStatus) => {
      health = source;
    },
    registry,
    messagesProduced: new Counter({ name: 'kafka_plugin_messages_produced_total', help: 'Records acknowledged by the broker', labelNames: ['topic'], registers }),
    messagesConsumed: new Counter({ name: 'kafka_plugin_messages_consumed_total', help: 'Records delivered to clients', labelNames: ['topic'], registers }),
    producerQueueLength: new Gauge({
      name: 'kafka_plugin_producer_queue_length',
      help: 'Records handed to the producer and not yet acknowledged',
      registers,
      collect() {
        this.set(producerQueue());
      },
    }),
    deliveryErrors: new Counter({ name: 'kafka_plugin_delivery_errors_total', help: 'Produce or delivery failures', labelNames: ['topic', 'code'], registers }),
    healthStatus: new Gauge({
      name: 'kafka_plugin_health_status',
      help: 'Health: 1 healthy, 2 degraded, 3 unhealthy (LifecycleInterface HealthStatus values)',
      registers,
      collect() {
        // The status at scrape time, not at the last change notification (staleness is a matter of time).
        if (health !== undefined) this.set(healthStatusValue[health()]);
      },
    }),
    /** prism_request_duration_seconds (unary calls) and prism_stream_duration_seconds (server-streaming calls). */
    ...createDurationMetrics(registers),
    buildInfo: createBuildInfo(registers, options.build ?? { version: pluginVersion, nodeVersion: process.versions.node }),
    queueEvents: {
      redelivered: new Counter({ name: 'prism_queue_redeliveries_total', help: 'Messages delivered again after a nack', labelNames: ['topic'], registers }),
      deadLettered: new Counter({ name: 'prism_queue_dead_lettered_total', help: 'Messages sent to the dead-letter topic', labelNames: ['topic'], registers }),
      commitFailures: new Counter({ name: 'prism_queue_commit_failures_total', help: 'Offset commits that failed (the messages are redelivered)', labelNames: ['topic'], registers }),
      rebalances: new Counter({ name: 'prism_queue_rebalances_total', help: 'Partition assignments received by queue subscriptions', labelNames: ['topic'], registers }),
    },
    /** prism_queue_unacked{topic} and prism_consumer_lag{group,topic,partition}. */
    queue: createQueueMetrics(registers),
    /** prism_credential_ttl_seconds, prism_credential_renewals_total, prism_credential_rotations_total. */
    credentials: createCredentialMetrics(registers),
    /** prism_tls_reloads_total{result}, prism_tls_certificate_expiry_timestamp_seconds (the main port's certificate). */
    tls: createTlsMetrics(registers),
    requests: new Counter({ name: 'prism_requests_total', help: 'Requests by operation and status', labelNames: ['operation', 'status'], registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
