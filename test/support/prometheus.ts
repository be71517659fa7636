import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrometheusServer {
  url: string;
  /** Instant query through the HTTP API; resolves with the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** The scrape targets as Prometheus sees them (health `up` / `down`, last error). */
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  /** The loaded rules as Prometheus evaluates them (health `ok` once evaluated without error). */
  rules(): Promise<{ name: string; type: string; health: string; lastError?: string; state?: string }[]>;
  logs(): string;
  /** Stops the server and deletes its data directory. Idempotent. */
  close(): Promise<void>;
}

/** Fails with the fix when a Prometheus binary is missing (an ENOENT from spawn says nothing useful). */
export function requireTool(name: 'prometheus' | 'promtool'): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${name} is not installed: run bash scripts/install-observability-tools.sh (Debian package prometheus)`);
  }
}

/** A free loopback port (a short race with other processes is possible; Prometheus then fails loudly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export interface PrometheusOptions {
  /** Rule files (absolute paths) to load and evaluate every second, like `rule_files:` in a real deployment. */
  ruleFiles?: string[];
}

/**
 * Starts a real Prometheus server (the `prometheus` binary on PATH, see scripts/install-observability-tools.sh) on a
 * free loopback port, scraping `target` (host:port) every second, with its data in a temp dir.
 */
export async function startPrometheus(target: string, options: PrometheusOptions = {}): Promise<PrometheusServer> {
  requireTool('prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'prism-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    ...(options.ruleFiles === undefined ? [] : ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]),
    'scrape_configs:',
    '  - job_name: prism-kafka-plugin',
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
    await rm(dir, { recursive: true, force: true });
  })());
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`prometheus exited during start-up:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > until) {
      await close();
      throw new Error(`prometheus did not become ready on ${url} within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    targets: async () => (await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>('/api/v1/targets')).activeTargets,
    rules: async () => (await api<{ groups: { rules: { name: string; type: string; health: string; lastError?: string; state?: string }[] }[] }>('/api/v1/rules')).groups.flatMap((g) => g.rules),
    logs: () => output,
    close,
  };
}
