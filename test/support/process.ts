import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { captureChunks, registerSecretsFromEnv } from './test-logs.ts';

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first JSON log line whose msg matches. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a Node process and collects its JSON log lines. Under vitest its stdout and stderr are also kept in
 * `.cache/test-logs/` and the secrets in its environment registered, for the log scan (test/support/test-logs.ts).
 */
export function spawnNode(args: string[], options: { cwd: string; env: Record<string, string> }): Spawned {
  registerSecretsFromEnv(options.env);
  const keep = captureChunks(`node-${args.find((a) => !a.startsWith('-')) ?? 'process'}`);
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env } });
  const stdout: string[] = [];
  let err = '';
  let partial = '';
  const waiters: { msg: string; resolve: (r: Record<string, unknown>) => void }[] = [];
  const parse = (line: string) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    keep(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      stdout.push(line);
      const rec = parse(line);
      for (const w of [...waiters]) if (rec?.msg === w.msg) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(rec);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    keep(chunk);
    err += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout,
    stderr: () => err,
    exited,
    waitForLog(msg, timeoutMs = 15_000) {
      const seen = stdout.map(parse).find((r) => r?.msg === msg);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line "${msg}" within ${timeoutMs} ms; stdout:\n${stdout.join('\n')}\nstderr:\n${err}`)), timeoutMs);
        waiters.push({ msg, resolve: (r) => { clearTimeout(timer); resolve(r); } });
        void exited.then(() => reject(new Error(`process exited before logging "${msg}"; stderr:\n${err}`)));
      });
    },
  };
}
