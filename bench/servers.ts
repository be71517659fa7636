// The two gRPC servers under load, each a child process whose CPU and memory the bench reads from /proc: the plugin
// (server.mjs of the bench's build, with the container image's Node flags) and the bare grpc-js server (bench/bare-server.ts).
import { join } from 'node:path';
import { spawnNode, type Spawned } from '../test/support/process.ts';
import { fmt, memoryOf, track } from './lib.ts';
import { brokers, profile } from './params.ts';
import { distDir, root } from './paths.ts';

export type Server = Spawned & { address: string; pid: number };

export async function startPlugin(): Promise<Server> {
  const prof = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/results/profiles')}`] : [];
  // Node flags as in the container image's entrypoint.
  const p = spawnNode([...prof, '--max-semi-space-size=8', join(distDir, 'server.mjs')], {
    cwd: root,
    env: { KAFKA_BROKERS: brokers, KAFKA_COMPRESSION: 'none', PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', PRISM_CONSUMER_MAX_UNACKED: '2000' },
  });
  track(p.child);
  const line = await p.waitForLog('kafka plugin initialized', 30_000);
  return Object.assign(p, { address: `127.0.0.1:${String(line.port)}`, pid: p.child.pid! });
}

export async function startBare(): Promise<Server> {
  const p = spawnNode(['--max-semi-space-size=8', join(root, 'bench/bare-server.ts')], { cwd: root, env: {} });
  track(p.child);
  const line = await p.waitForLog('bare server listening', 15_000);
  return Object.assign(p, { address: `127.0.0.1:${String(line.port)}`, pid: p.child.pid! });
}

export async function stop(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5000))]);
}

export interface Memory { rssMb: number; hwmMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number }

/** Peak and current RSS (/proc), and V8 heap and external memory as the plugin's /metrics reports them (prom-client). */
export async function memory(server: Server, metrics = true): Promise<Memory> {
  const { rssMb, hwmMb } = memoryOf(server.pid);
  const out = { rssMb, hwmMb, heapUsedMb: NaN, heapTotalMb: NaN, externalMb: NaN };
  if (!metrics) return out;
  try {
    const text = await (await fetch(`http://${server.address}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const mb = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 1e6;
    return { ...out, heapUsedMb: mb('nodejs_heap_size_used_bytes'), heapTotalMb: mb('nodejs_heap_size_total_bytes'), externalMb: mb('nodejs_external_memory_bytes') };
  } catch {
    return out;
  }
}

export const describeMemory = (m: Memory) => `VmHWM ${fmt(m.hwmMb, 0)} MB, VmRSS ${fmt(m.rssMb, 0)} MB, V8 heap used ${fmt(m.heapUsedMb, 0)} / total ${fmt(m.heapTotalMb, 0)} MB, external ${fmt(m.externalMb, 0)} MB`;
