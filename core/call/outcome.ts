import { PluginError, isPluginError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** Any thrown value → a PluginError (unknown errors become INTERNAL, keeping the original as cause). */
export function toPluginError(error: unknown): PluginError {
  if (isPluginError(error)) return error;
  return new PluginError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** What a caller may read of an error: its message when it may be shown, else a generic text with the request id. */
export function callerMessage(error: PluginError, requestId: string): string {
  return error.expose ? error.message : `internal error (request ${requestId})`;
}

export interface Outcome {
  operation: string;
  /** The status label of the metrics (gRPC status name, or the error code where there is no gRPC status). */
  status: string;
  /** When the call started (process.hrtime.bigint()). */
  started: bigint;
  error?: PluginError | undefined;
  /** More fields for the log line (e.g. `cold` in function mode). */
  fields?: Record<string, unknown>;
  /** Whether success lines are written, when known without building the call's logger. */
  debugEnabled?: boolean;
  /** A server-streaming call: its duration is how long the stream stayed open (prism_stream_duration_seconds). */
  stream?: boolean;
}

/** What recording an outcome needs of the metrics. */
export type OutcomeMetrics = Pick<Metrics, 'requestDuration' | 'streamDuration' | 'requests'>;

/**
 * Records how one call ended, the same way for every entry (gRPC unary, gRPC streams, function invocations): the
 * request metrics by operation and status (the duration in the stream histogram for a stream: minutes of an open
 * Tail are not request latency), and one log line — debug on success, warn on a failure the caller caused or
 * can retry, error with the full error for INTERNAL. Returns the duration in ms.
 */
export function recordOutcome(metrics: OutcomeMetrics | undefined, log: Logger | (() => Logger), o: Outcome): number {
  const seconds = Number(process.hrtime.bigint() - o.started) / 1e9;
  (o.stream === true ? metrics?.streamDuration : metrics?.requestDuration)?.observe({ operation: o.operation, status: o.status, backend: 'kafka' }, seconds);
  metrics?.requests.inc({ operation: o.operation, status: o.status });
  const fields = { status: o.status, duration_ms: Math.round(seconds * 1e5) / 100, ...o.fields };
  // A function is called only for a line that is written: building a call's child logger costs more than the call.
  const logger = typeof log === 'function' ? log : () => log;
  if (o.error === undefined) {
    if (o.debugEnabled ?? logger().isLevelEnabled('debug')) logger().debug(fields, 'request finished');
  } else if (o.error.code === 'INTERNAL') logger().error({ ...fields, err: o.error }, `request failed: ${o.error.message}`);
  else logger().warn({ ...fields, error: o.error.message }, 'request failed');
  return fields.duration_ms;
}
