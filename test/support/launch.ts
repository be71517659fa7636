import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { throttleClient } from './throttle.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A port nobody listens on right now, the way a launcher picks one: bind port 0, read it, let it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until something accepts TCP connections on the port (the Rust proxy retries its connect the same way). */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Builds the server bundle and copies it to `<tmp>/dist`, a directory with no node_modules above it. */
export function buildBundle(): { dir: string; bundle: string; remove: () => void } {
  const build = mkdtempSync(join(tmpdir(), 'prism-build-'));
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, env: { ...process.env, PRISM_BUILD_OUTDIR: build }, stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'prism-bundle-'));
  cpSync(build, join(dir, 'dist'), { recursive: true });
  rmSync(build, { recursive: true, force: true });
  return { dir, bundle: join(dir, 'dist', 'server.mjs'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A started process with its JSON log lines, as a launcher sees it. */
export interface Launched {
  child: ChildProcessWithoutNullStreams;
  /** Parsed JSON lines of stdout so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line whose msg matches. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Runs any executable (a manifest's, say) with exactly the environment given, collecting its JSON log lines. */
export function launchExecutable(executable: string, args: string[], env: Record<string, string>): Launched {
  const child = spawn(executable, args, { env });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, logs, exited, stderr: () => err,
    async waitForLog(msg, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find((l) => l.msg === msg);
        if (found !== undefined) return found;
        if (Date.now() > until || child.exitCode !== null) throw new Error(`no log line "${msg}"; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/**
 * For a test file that launches the built bundle while some of its producers are slowed by a broker quota (so calls
 * are still in flight when Drain or Stop arrives): builds the bundle in a temporary dir and sets the quotas on the
 * `<clientId>-producer` client ids before the file's tests (both take seconds, so they run together), and undoes
 * both after them. Returns a getter for the bundle.
 */
export function useThrottledBundle(brokers: () => string, clientIds: string[]): () => ReturnType<typeof buildBundle> {
  let bundle: ReturnType<typeof buildBundle> | undefined;
  let unthrottle: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    const quotas = Promise.all(clientIds.map((c) => throttleClient(brokers(), `${c}-producer`)));
    bundle = buildBundle();
    unthrottle = await quotas;
  }, 120_000);
  afterAll(async () => {
    bundle?.remove();
    await Promise.all(unthrottle.map((f) => f()));
  }, 60_000);
  return () => bundle!;
}
