import { Histogram, type Registry } from 'prom-client';

/** prism_request_duration_seconds buckets, as Prism defines them (prism-contracts.md §8): unary calls. */
export const requestBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * prism_stream_duration_seconds buckets, 1 s to 8 h: a Tail, Subscribe or Consume stream lives from seconds (a client
 * that reconnects) to hours (a worker), so the request buckets (≤ 5 s) would put every stream in +Inf.
 */
export const streamBuckets = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800];

const labelNames = ['operation', 'status', 'backend'] as const;

/**
 * Call durations, split by the shape of the call: unary calls in prism_request_duration_seconds, server-streaming
 * calls (how long a stream stayed open) in prism_stream_duration_seconds. Same labels on both, so one query shape
 * serves either; a stream is never mixed into the request latency percentiles.
 */
export function createDurationMetrics(registers: Registry[]) {
  return {
    requestDuration: new Histogram({ name: 'prism_request_duration_seconds', help: 'Unary request duration by operation and status', labelNames, buckets: requestBuckets, registers }),
    streamDuration: new Histogram({ name: 'prism_stream_duration_seconds', help: 'How long server-streaming calls (Tail, Subscribe, Consume) stayed open, by operation and final status', labelNames, buckets: streamBuckets, registers }),
  };
}
