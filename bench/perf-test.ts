// Kafka's own Java producer benchmark (kafka-producer-perf-test, run by scripts/infra/kafka-tool.sh from the installed
// Kafka): the ceiling of what a client can push through this broker, and the steady feeder of the consume scenario.
// It prints one line per 5 s window; the bench reads the windows as rounds (the first, with the JVM's warm-up, is
// dropped) and the JVM's CPU from /proc at each window line.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuMsOf, log, now, track } from './lib.ts';
import { brokers } from './params.ts';
import { root } from './paths.ts';

/** Tuned for throughput: large batches, a short linger; acks=all and no compression as every path of the bench. */
export const perfProps = { acks: 'all', 'batch.size': '262144', 'linger.ms': '5', 'compression.type': 'none', 'buffer.memory': '67108864' };

export interface PerfWindow { recordsPerSec: number; mbPerSec: number; avgMs: number; maxMs: number; jvmCpuMs: number; wallMs: number }

const windowLine = /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency\.?$/;

/**
 * Runs the producer at `throughput` records/s (-1: as fast as it can) until it reported `windows` windows, wrote
 * `records`, `durationMs` passed or `stop()` was called, whichever comes first. Resolves with its 5 s windows.
 */
export function perfTest(topic: string, o: { size: number; throughput: number; durationMs: number; records?: number; windows?: number }): { done: Promise<PerfWindow[]>; stop: () => void } {
  const records = o.records ?? 1_000_000_000;
  const child = track(spawn('bash', [join(root, 'scripts/infra/kafka-tool.sh'), 'kafka-producer-perf-test', '--topic', topic, '--num-records', String(records),
    '--record-size', String(o.size), '--throughput', String(o.throughput),
    '--producer-props', `bootstrap.servers=${brokers}`, ...Object.entries(perfProps).map(([k, v]) => `${k}=${v}`)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const windows: PerfWindow[] = [];
  let partial = '';
  let stdout = '';
  let stderr = '';
  let cpu = cpuMsOf(child.pid!);
  let at = now();
  child.stdout!.on('data', (b: Buffer) => {
    stdout = (stdout + b.toString()).slice(-1000);
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const m = windowLine.exec(l.trim());
      if (m === null) continue;
      const c = cpuMsOf(child.pid!);
      const t = now();
      windows.push({ recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]) * 1.048576, avgMs: Number(m[4]), maxMs: Number(m[5]), jvmCpuMs: c - cpu, wallMs: t - at });
      cpu = c;
      at = t;
      if (windows.length === o.windows) child.kill('SIGTERM');
    }
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), o.durationMs);
  const done = new Promise<PerfWindow[]>((resolve) => child.once('close', (code, signal) => {
    clearTimeout(timer);
    // Killed at the end of its time (by us: SIGTERM, or exit 143 when the JVM handles it) is the normal end.
    if (code !== 0 && code !== 143 && signal !== 'SIGTERM') log(`kafka-producer-perf-test exited ${String(code)}: ${stderr.slice(-300)}`);
    if (windows.length === 0) log(`kafka-producer-perf-test reported no 5 s window; its output ended with: ${stdout.slice(-300)} ${stderr.slice(-300)}`);
    resolve(windows);
  }));
  return { done, stop: () => child.kill('SIGTERM') };
}
