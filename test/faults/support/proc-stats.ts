import { readdirSync, readFileSync } from 'node:fs';
import { startPluginProcess, type PluginProcess } from '../../support/plugin-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** What the kernel says of a process: resident memory (MiB), open file descriptors, threads. */
export interface ProcStats {
  rssMb: number;
  fds: number;
  threads: number;
}

/** Reads /proc/<pid>/status and /proc/<pid>/fd. */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round((field('VmRSS') / 1024) * 10) / 10, fds: readdirSync(`/proc/${String(pid)}/fd`).length, threads: field('Threads') };
}

/** Samples a process every `everyMs` and keeps the highest RSS and fd count seen. */
export function peakSampler(pid: number, everyMs = 100): { readonly peak: ProcStats; stop(): ProcStats } {
  const peak = procStats(pid);
  const sample = () => {
    try {
      const s = procStats(pid);
      peak.rssMb = Math.max(peak.rssMb, s.rssMb);
      peak.fds = Math.max(peak.fds, s.fds);
      peak.threads = Math.max(peak.threads, s.threads);
    } catch {
      // The process is gone; the last peak stands.
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    peak,
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Prometheus text from the plugin's /metrics. */
export async function scrape(address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/**
 * The sum of a metric's samples whose labels include all of `labels` (0 when there is none): e.g.
 * `metricSum(text, 'nodejs_active_resources', { type: 'Timeout' })`.
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/**
 * A Chrome DevTools Protocol session with a process started with `--inspect`: forces a full garbage collection and
 * reads the V8 heap, so "memory back to baseline" compares live objects, not whatever the collector left lying around.
 */
export class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (result: Record<string, unknown>) => void>();
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data)) as { id?: number; result?: Record<string, unknown> };
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg.result ?? {});
      if (msg.id !== undefined) this.#pending.delete(msg.id);
    });
  }

  /** Connects to the debugger URL the process printed on stderr ("Debugger listening on ws://…"). */
  static async connect(stderr: () => string, timeoutMs = 10_000): Promise<Inspector> {
    const end = Date.now() + timeoutMs;
    let url: string | undefined;
    while ((url = /Debugger listening on (ws:\/\/\S+)/.exec(stderr())?.[1]) === undefined) {
      if (Date.now() > end) throw new Error(`no inspector URL on stderr within ${String(timeoutMs)} ms:\n${stderr()}`);
      await sleep(50);
    }
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), { once: true });
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`inspector: ${method} did not answer within ${String(timeoutMs)} ms`));
      }, timeoutMs);
      this.#pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Full GC (twice: weak references and finalizers free more on the second pass); returns the V8 heap in use and the
   * ArrayBuffer backing stores (Buffers: record payloads, socket data) still alive, in MiB.
   */
  async heapAfterGc(): Promise<{ usedMb: number; totalMb: number; buffersMb: number }> {
    await this.send('HeapProfiler.collectGarbage');
    await sleep(200);
    await this.send('HeapProfiler.collectGarbage');
    const r = await this.send('Runtime.getHeapUsage') as { usedSize: number; totalSize: number; backingStorageSize?: number };
    return { usedMb: mib(r.usedSize), totalMb: mib(r.totalSize), buffersMb: mib(r.backingStorageSize ?? 0) };
  }

  close(): void {
    this.#ws.close();
  }
}

export interface MeasuredPlugin extends PluginProcess {
  inspector: Inspector;
  stats(): ProcStats;
  /** Forces a GC, then reads the heap (V8 objects), live Buffers, RSS and fds. */
  settle(): Promise<ProcStats & { heapMb: number; buffersMb: number }>;
  stop(): Promise<void>;
}

/** The plugin as its own process with an inspector attached (loopback, random port) for forced GCs. */
export async function startMeasuredPlugin(env: Record<string, string>): Promise<MeasuredPlugin> {
  const p = await startPluginProcess({ ...env, NODE_OPTIONS: '--inspect=127.0.0.1:0' });
  let inspector: Inspector;
  try {
    inspector = await Inspector.connect(p.stderr);
  } catch (err) {
    p.child.kill('SIGKILL');
    throw err;
  }
  return Object.assign(p, {
    inspector,
    stats: () => procStats(p.pid),
    async settle() {
      const heap = await inspector.heapAfterGc();
      return { ...procStats(p.pid), heapMb: heap.usedMb, buffersMb: heap.buffersMb };
    },
    async stop() {
      inspector.close();
      p.child.kill('SIGKILL');
      await p.exited;
    },
  });
}
