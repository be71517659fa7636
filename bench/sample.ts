// One measured round of one path, whatever generated it (the Go client, ghz, a direct client in this process), and
// the columns every throughput row shows: rate, latency, and CPU per record of the server and of the load generator.
import { cpuMsOf, type LoadResult } from './lib.ts';
import type { GhzRun, GoRun } from './load.ts';

export interface Sample {
  records: number;
  calls: number;
  seconds: number;
  recordsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  /** CPU time in the window: the server under test (plugin or bare; none for a direct client), the load generator, the broker. */
  cpuMs: { server?: number; gen: number; broker?: number };
}

export function fromGo(r: GoRun, server?: string): Sample {
  return {
    records: r.records, calls: r.calls, seconds: r.seconds, recordsPerSec: r.records_per_s, p50Ms: r.p50_ms, p90Ms: r.p90_ms, p99Ms: r.p99_ms,
    errors: r.errors, ...(r.first_error === undefined ? {} : { firstError: r.first_error }),
    cpuMs: { ...(server === undefined ? {} : { server: r.cpu_ms[server] }), gen: r.cpu_ms.self!, broker: r.cpu_ms.broker },
  };
}

export function fromGhz(r: GhzRun, server: string): Sample {
  return {
    records: r.count, calls: r.count, seconds: r.seconds, recordsPerSec: r.rps, p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms, errors: r.errors,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }), cpuMs: { server: r.cpuMs[server], gen: r.cpuMs.self!, broker: r.cpuMs.broker },
  };
}

/** Runs a load of a direct client in this process; its CPU (the client library's) is the generator's. */
export async function direct(run: () => Promise<LoadResult>, brokerPid: number | undefined, callsPerRecord = 1): Promise<Sample> {
  const broker0 = brokerPid === undefined ? NaN : cpuMsOf(brokerPid);
  const self0 = process.cpuUsage();
  const r = await run();
  const self = process.cpuUsage(self0);
  return {
    records: r.records, calls: r.records * callsPerRecord, seconds: r.seconds, recordsPerSec: r.recordsPerSec, p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms, errors: r.errors,
    cpuMs: { gen: (self.user + self.system) / 1000, broker: brokerPid === undefined ? undefined : cpuMsOf(brokerPid) - broker0 },
  };
}

const perRecord = (ms: number | undefined, s: Sample) => (ms === undefined || s.records === 0 ? NaN : (ms * 1000) / s.records);
const cores = (ms: number | undefined, s: Sample) => (ms === undefined ? NaN : ms / 1000 / s.seconds);

/** The columns of a throughput row, one value per round. */
export function columns(samples: Sample[], opts: { server?: boolean } = {}): Record<string, number[]> {
  const server = opts.server ?? samples.some((s) => s.cpuMs.server !== undefined);
  return {
    'rec/s': samples.map((s) => s.recordsPerSec),
    'p50 ms': samples.map((s) => s.p50Ms),
    'p90 ms': samples.map((s) => s.p90Ms),
    'p99 ms': samples.map((s) => s.p99Ms),
    ...(server ? { 'srv µs/rec': samples.map((s) => perRecord(s.cpuMs.server, s)), 'srv cores': samples.map((s) => cores(s.cpuMs.server, s)) } : {}),
    'gen µs/rec': samples.map((s) => perRecord(s.cpuMs.gen, s)),
    'gen cores': samples.map((s) => cores(s.cpuMs.gen, s)),
    'broker cores': samples.map((s) => cores(s.cpuMs.broker, s)),
  };
}

export const errorNote = (samples: Sample[]): string | undefined => {
  const n = samples.reduce((a, s) => a + s.errors, 0);
  return n === 0 ? undefined : `${n} errors, e.g. ${samples.find((s) => s.firstError !== undefined)?.firstError ?? '?'}`.slice(0, 200);
};
