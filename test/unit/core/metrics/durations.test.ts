import { describe, expect, it } from 'vitest';
import { recordOutcome } from '../../../../core/call/outcome.ts';
import { openCall } from '../../../../core/call/pipeline.ts';
import { createLogger } from '../../../../core/logger.ts';
import { createMetrics } from '../../../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../../../core/secrets/scrubber.ts';

const log = createLogger({ level: 'info', service: 's', version: 'v', scrubber: new SecretScrubber(), write: () => undefined });
type M = ReturnType<typeof createMetrics>;
/** The histogram's samples named `name` (e.g. `…_bucket`), as [labels, value] (default labels included). */
async function samples(m: M, histogram: 'requestDuration' | 'streamDuration', name: string) {
  const { values } = await m[histogram].get();
  return values.filter((v) => v.metricName === name).map((v) => [v.labels, v.value] as const);
}
const le = (rows: Awaited<ReturnType<typeof samples>>) => rows.map(([labels]) => String((labels as Record<string, unknown>).le));
/** A start time `seconds` ago on the hrtime clock the outcome measures with. */
const ago = (seconds: number) => process.hrtime.bigint() - BigInt(Math.round(seconds * 1e9));

describe('call durations: unary calls and streams in separate histograms', () => {
  it('puts a stream that stayed open for 40 minutes in prism_stream_duration_seconds, not in the request histogram', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    recordOutcome(m, log, { operation: 'tail', status: 'CANCELLED', started: ago(2_400), stream: true });
    const buckets = await samples(m, 'streamDuration', 'prism_stream_duration_seconds_bucket');
    expect(le(buckets)).toEqual(['1', '5', '15', '30', '60', '300', '900', '1800', '3600', '7200', '14400', '28800', '+Inf']);
    // 2 400 s: above the 1 800 s bucket, inside the 3 600 s one.
    expect(buckets.map(([, v]) => v)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(buckets[0]![0]).toMatchObject({ operation: 'tail', status: 'CANCELLED', backend: 'kafka' });
    expect(await samples(m, 'requestDuration', 'prism_request_duration_seconds_count')).toEqual([]);
    // Streams are still requests: counted by operation and status like any call.
    expect((await m.requests.get()).values.map((v) => [v.labels, v.value])).toEqual([[{ operation: 'tail', status: 'CANCELLED' }, 1]]);
  });

  it("keeps unary calls in prism_request_duration_seconds with Prism's buckets", async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    recordOutcome(m, log, { operation: 'publish', status: 'OK', started: ago(0.02) });
    const buckets = await samples(m, 'requestDuration', 'prism_request_duration_seconds_bucket');
    expect(le(buckets)).toEqual(['0.001', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']);
    // 20 ms: above 10 ms, inside 25 ms.
    expect(buckets.map(([, v]) => v)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(await samples(m, 'streamDuration', 'prism_stream_duration_seconds_count')).toEqual([]);
  });

  it('routes by what the entry declared when it opened the call', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    const scope = { log, metrics: m };
    openCall({ operation: 'consume', stream: true }, scope).end();
    openCall({ operation: 'consume' }, scope).end();
    openCall({ operation: 'consume' }, scope).end();
    const count = async (h: 'requestDuration' | 'streamDuration', name: string) => (await samples(m, h, name)).map(([l, v]) => [l.operation, v]);
    expect(await count('streamDuration', 'prism_stream_duration_seconds_count')).toEqual([['consume', 1]]);
    expect(await count('requestDuration', 'prism_request_duration_seconds_count')).toEqual([['consume', 2]]);
  });
});
