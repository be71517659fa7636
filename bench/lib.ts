// Helpers for the benchmark: statistics, closed- and open-loop load generators, CPU and memory from /proc,
// child-process bookkeeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** A monotonic clock for durations (deadlines for grpc-js and kafka clients are Date.now() based). */
export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Quantile of an unsorted sample (nearest rank). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
export const median = (values: number[]) => quantile(values, 0.5);

/** Median of rounds and their spread ((max − min) / median, as a percentage). */
export function summary(values: number[]): { median: number; min: number; max: number; spreadPct: number; rounds: number[] } {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: m, min, max, spreadPct: m === 0 ? 0 : ((max - min) / m) * 100, rounds: values };
}

export interface LoadResult {
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
  cpu?: Record<string, number>;
}

/**
 * Closed loop: `callers` concurrent callers each run `op` back to back for `durationMs`. `op` returns how many
 * records it carried (1 for one-record calls, N for batches); latency is per call.
 */
export async function closedLoop(op: () => Promise<number>, callers: number, durationMs: number, recordBytes: number): Promise<LoadResult> {
  const lat: number[] = [];
  let records = 0;
  let errors = 0;
  const start = now();
  const until = start + durationMs;
  let firstError: unknown;
  const worker = async () => {
    while (now() < until) {
      const t = now();
      try {
        const n = await op();
        records += n;
        lat.push(now() - t);
      } catch (err) {
        errors++;
        firstError ??= err;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, worker));
  const seconds = (now() - start) / 1000;
  if (errors > 0 && records === 0) throw new Error(`every call failed: ${String(firstError)}`);
  return result(records, recordBytes, seconds, lat, errors);
}

/**
 * Open loop at a fixed rate: a call is started every 1/rate s whatever the answers; latency is measured from the
 * moment the call was due (so a stalled system cannot hide its queueing delay).
 */
export async function openLoop(op: () => Promise<unknown>, rate: number, durationMs: number, recordBytes: number): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = now();
  const total = Math.floor((rate * durationMs) / 1000);
  let sent = 0;
  while (sent < total) {
    const due = start + (sent * 1000) / rate;
    const wait = due - now();
    // Always yield to the event loop (answers must be processed while we pace), even when the next call is due now.
    if (wait > 1) await sleep(wait - 0.5);
    else await new Promise<void>((r) => setImmediate(r));
    // Start every call that is due now (timers have ~1 ms granularity).
    while (sent < total && start + (sent * 1000) / rate <= now()) {
      const dueAt = start + (sent * 1000) / rate;
      sent++;
      pending.push(op().then(() => void lat.push(now() - dueAt), () => void errors++));
    }
  }
  await Promise.all(pending);
  const seconds = (now() - start) / 1000;
  return result(lat.length, recordBytes, seconds, lat, errors);
}

function result(records: number, recordBytes: number, seconds: number, lat: number[], errors: number): LoadResult {
  return {
    records,
    bytes: records * recordBytes,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: (records * recordBytes) / seconds / 1e6,
    p50Ms: quantile(lat, 0.5),
    p90Ms: quantile(lat, 0.9),
    p99Ms: quantile(lat, 0.99),
    errors,
  };
}

/** Peak and current resident memory of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { hwmMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU time (user + system) of a process so far, in ms (Linux /proc; clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** CPU time of this process's children that have exited and been reaped (cutime + cstime), in ms. */
export function reapedChildrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

export interface Exec { stdout: string; stderr: string; code: number | null; pid: number; wallMs: number; cpuMs: Record<string, number> }

/**
 * Runs a command to its end and reports the CPU the watched processes used meanwhile (ms); `self` is the command's
 * own CPU (read from this process's reaped-children counters, so no other child may exit meanwhile to be exact).
 */
export async function exec(cmd: string, args: string[], pids: Record<string, number | undefined> = {}, options: { cwd?: string; timeoutMs?: number } = {}): Promise<Exec> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? NaN : cpuMsOf(pid)]));
  const reaped0 = reapedChildrenCpuMs();
  const t0 = now();
  const child = track(spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const cpuMs: Record<string, number> = { self: reapedChildrenCpuMs() - reaped0 };
  for (const [k, pid] of Object.entries(pids)) cpuMs[k] = pid === undefined ? NaN : cpuMsOf(pid) - before[k]!;
  return { stdout, stderr, code, pid: child.pid ?? 0, wallMs: now() - t0, cpuMs };
}

/** Children to kill whatever happens (normal end, error, Ctrl-C). */
const children = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.once('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killChildren();
    process.exit(130);
  });
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
