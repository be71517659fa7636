import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DaemonOptions { name: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; logFile: string; pidFile: string; marker: string }

/**
 * A server process a fault test starts, stops, freezes and starts again (a private OpenBao, a private broker): its
 * own process group (so a signal reaches every child), output appended to a log file, its pid in a file. A process
 * left behind by an earlier run that died (the pid file names a live process whose command line still carries
 * `marker`) is stopped before a new one starts, and only that one: nothing is found by name.
 */
export class Daemon {
  #pid: number | undefined;

  readonly options: DaemonOptions;

  constructor(options: DaemonOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  get running(): boolean {
    return this.#pid !== undefined && alive(this.#pid);
  }

  /** Starts the process (after stopping a stale one of an earlier run). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.stopStale();
    const { command, args, env, logFile, pidFile } = this.options;
    mkdirSync(dirname(logFile), { recursive: true });
    const out = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env: env ?? process.env });
      child.unref();
      if (child.pid === undefined) throw new Error(`${this.options.name}: spawn failed`);
      this.#pid = child.pid;
      writeFileSync(pidFile, `${String(child.pid)}\n`);
    } finally {
      closeSync(out);
    }
  }

  /** SIGTERM to the group, a bounded wait, then SIGKILL; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.#pid;
    if (pid !== undefined) await terminate(pid, graceMs);
    this.#pid = undefined;
    rmSync(this.options.pidFile, { force: true });
  }

  /** SIGSTOP: the process keeps its sockets (connections are accepted by the kernel) but answers nothing. */
  freeze(): void {
    if (this.#pid !== undefined) signalGroup(this.#pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.#pid !== undefined) signalGroup(this.#pid, 'SIGCONT');
  }

  /** Stops the process an earlier run left behind (named by the pid file and still carrying the marker), if any. */
  async stopStale(): Promise<void> {
    if (this.running) return;
    const { pidFile, marker } = this.options;
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    rmSync(pidFile, { force: true });
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
    const cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').split('\0').join(' ');
    if (cmdline.includes(marker)) await terminate(pid, 10_000);
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  // A frozen process must run again to act on SIGTERM.
  signalGroup(pid, 'SIGCONT');
  signalGroup(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(100);
  if (alive(pid)) signalGroup(pid, 'SIGKILL');
  const killEnd = Date.now() + 5_000;
  while (alive(pid) && Date.now() < killEnd) await sleep(50);
  if (alive(pid)) throw new Error(`process ${String(pid)} survived SIGKILL`);
}
