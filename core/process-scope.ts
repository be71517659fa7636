import type { Logger } from './logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { SecretScrubber } from './secrets/scrubber.ts';
import type { Tracing } from './tracing/tracing.ts';

/** What outlives a rebuilt set of clients (a reconfiguration, a new connection-cache entry): one per process. */
export interface ProcessScope {
  log: Logger;
  metrics: Metrics;
  scrubber: SecretScrubber;
  /** OpenTelemetry tracing, when the OTEL_* variables turn it on (read at start; Initialize does not change it). */
  tracing?: Tracing | undefined;
}
