// The load generators that are not the bottleneck: the compiled Go client (bench/go, pre-built requests) and ghz
// (unary calls), both from the Go module proxy; built or installed on first use into .cache/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec, log } from './lib.ts';
import { root } from './paths.ts';

let tools: { ghz: string; load: string } | undefined;

/** Installs ghz (scripts/install-tools.sh) and builds the Go client (bench/go/build.sh); both idempotent. */
export function ensureLoadTools(): { ghz: string; load: string } {
  if (tools !== undefined) return tools;
  log('load generators: scripts/install-tools.sh (ghz), bench/go/build.sh (Go client)');
  const bin = execFileSync('bash', [join(root, 'scripts/install-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  const load = execFileSync('bash', [join(root, 'bench/go/build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  tools = { ghz: join(bin, 'ghz'), load };
  return tools;
}

/** One line of the Go client (bench/go/main.go): counts and rates over its measured window. */
export interface GoRun {
  mode: string; batch: number; size: number; callers: number; conns: number; seconds: number;
  calls: number; records: number; errors: number; first_error?: string;
  records_per_s: number; calls_per_s: number; p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number;
  /** CPU time in the window: `self` (the Go client) and every pid it was given. */
  cpu_ms: Record<string, number>;
  first_delivery_ms?: number; received?: number; query_passes?: number; caught_up_ms?: number;
}

export interface GoOptions {
  addr: string; mode: 'publish' | 'publish-batch' | 'append' | 'append-batch' | 'consume' | 'query'; topic: string;
  batch?: number; size?: number; callers?: number; conns?: number; warmupMs: number; durationMs: number;
  pids: Record<string, number | undefined>; maxUnacked?: number; ackBatch?: number; queryLimit?: number;
}

export async function goLoad(o: GoOptions): Promise<GoRun> {
  const { load } = ensureLoadTools();
  const pids = Object.entries(o.pids).filter(([, p]) => p !== undefined).map(([k, p]) => `${k}=${String(p)}`).join(',');
  const args = [`-addr=${o.addr}`, `-mode=${o.mode}`, `-topic=${o.topic}`, `-batch=${o.batch ?? 1}`, `-size=${o.size ?? 100}`, `-callers=${o.callers ?? 1}`,
    `-conns=${o.conns ?? 1}`, `-warmup=${o.warmupMs}ms`, `-duration=${o.durationMs}ms`, `-pids=${pids}`,
    ...(o.maxUnacked === undefined ? [] : [`-max-unacked=${o.maxUnacked}`]), ...(o.ackBatch === undefined ? [] : [`-ack-batch=${o.ackBatch}`]),
    ...(o.queryLimit === undefined ? [] : [`-query-limit=${o.queryLimit}`])];
  const r = await exec(load, args, {}, { timeoutMs: o.warmupMs + o.durationMs + 120_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`prism-bench-load ${args.join(' ')} exited ${String(r.code)}: ${r.stderr.slice(-500)}`);
  return JSON.parse(line) as GoRun;
}

/** What the bench keeps of a ghz run (its JSON report), plus the CPU the watched processes and ghz itself used. */
export interface GhzRun { count: number; rps: number; p50Ms: number; p90Ms: number; p99Ms: number; errors: number; firstError?: string; seconds: number; cpuMs: Record<string, number> }

interface GhzReport {
  count: number; total: number; rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution?: Record<string, number>; errorDistribution?: Record<string, number>;
}

/** A pre-encoded PublishRequest {topic, payload} (ghz -B): ghz sends it as it is, no JSON to convert per call. */
export function publishRequestFile(topic: string, size: number): string {
  const t = Buffer.from(topic);
  const varint = (n: number) => { const out: number[] = []; while (n > 127) { out.push((n & 127) | 128); n >>>= 7; } out.push(n); return Buffer.from(out); };
  const file = join(root, '.cache/bench', 'publish-request.bin');
  mkdirSync(join(root, '.cache/bench'), { recursive: true });
  writeFileSync(file, Buffer.concat([Buffer.from([0x0a]), varint(t.length), t, Buffer.from([0x12]), varint(size), Buffer.alloc(size, 120)]));
  return file;
}

/**
 * ghz on Publish: `concurrency` workers over `connections` connections for `durationMs` (at `rps` if given, else as
 * fast as answered). In-flight calls at the end are ignored (--duration-stop=ignore); warm up with a separate run.
 */
export async function ghz(o: { addr: string; dataFile: string; concurrency: number; connections: number; durationMs: number; rps?: number; pids: Record<string, number | undefined> }): Promise<GhzRun> {
  const { ghz: bin } = ensureLoadTools();
  const args = ['--insecure', `--proto=${join(root, 'proto/prism/interfaces/queue/queue_basic.proto')}`, `--import-paths=${join(root, 'proto')}`,
    '--call=prism.interfaces.queue.QueueBasicInterface.Publish', `--binary-file=${o.dataFile}`, `--concurrency=${o.concurrency}`,
    `--connections=${o.connections}`, `--duration=${o.durationMs}ms`, '--duration-stop=ignore', '--timeout=30s', '--disable-template-functions',
    '--disable-template-data', ...(o.rps === undefined ? [] : [`--rps=${Math.round(o.rps)}`]), '--format=json', o.addr];
  const r = await exec(bin, args, o.pids, { timeoutMs: o.durationMs + 60_000 });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`ghz exited ${String(r.code)}: ${r.stderr.slice(-500)}`);
  const rep = JSON.parse(r.stdout) as GhzReport;
  const q = (p: number) => (rep.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  const ok = rep.statusCodeDistribution?.OK ?? 0;
  const errors = Object.entries(rep.statusCodeDistribution ?? {}).filter(([k]) => k !== 'OK').reduce((a, [, v]) => a + v, 0);
  const firstError = Object.keys(rep.errorDistribution ?? {})[0];
  return { count: ok, rps: ok / (rep.total / 1e9), p50Ms: q(50), p90Ms: q(90), p99Ms: q(99), errors, ...(firstError === undefined ? {} : { firstError }), seconds: rep.total / 1e9, cpuMs: r.cpuMs };
}
