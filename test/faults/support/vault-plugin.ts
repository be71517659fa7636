import type { Client } from '@grpc/grpc-js';
import { call, client } from '../../support/grpc-client.ts';
import { startPluginProcess, type PluginProcess } from '../../support/plugin-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the plugin as its own process with Vault credentials (AppRole login, a KV v2 secret). */
export async function startVaultPlugin(options: {
  brokers: string;
  vaultAddr: string;
  role: { roleId: string; secretId: string };
  /** KV v2 path without the `secret/data/` prefix. */
  path: string;
  env?: Record<string, string>;
}): Promise<PluginProcess> {
  return startPluginProcess({
    KAFKA_BROKERS: options.brokers,
    VAULT_ENABLED: 'true',
    VAULT_ADDR: options.vaultAddr,
    VAULT_AUTH_METHOD: 'approle',
    VAULT_ROLE_ID: options.role.roleId,
    VAULT_SECRET_ID: options.role.secretId,
    VAULT_PATH: `secret/data/${options.path}`,
    // Debug: every line the plugin can write is in the scan for leaked secrets.
    PRISM_LOG_LEVEL: 'debug',
    PRISM_SHUTDOWN_GRACE_SECONDS: '5',
    ...options.env,
  });
}

/** SIGTERM and the plugin's own orderly shutdown; SIGKILL when it does not exit in time. */
export async function stopPlugin(p: PluginProcess | undefined): Promise<{ code: number | null; signal: string | null } | undefined> {
  if (p === undefined) return undefined;
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the process is still running (not exited, not killed). */
export function alive(p: PluginProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** One look at the plugin's health, through the operators' two doors: HTTP /ready and gRPC Health/Check. */
export interface HealthSample {
  at: number;
  /** /ready's HTTP status (0: no answer). */
  http: number;
  ready: boolean;
  /** HEALTHY, DEGRADED, UNHEALTHY ('' when /ready did not answer). */
  status: string;
  reason: string;
  /** grpc.health.v1 Check for service `kafka`: SERVING, NOT_SERVING, or the error's name. */
  grpc: string;
}

/**
 * Samples the plugin's health every `everyMs` until stopped, keeping the whole timeline, so a test can say when a
 * state began and ended and whether readiness ever dropped in a window.
 */
export class HealthWatch {
  readonly samples: HealthSample[] = [];
  readonly #address: string;
  readonly #health: Client;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(address: string) {
    this.#address = address;
    this.#health = client(address, 'grpc.health.v1.Health');
  }

  /** Takes one sample now (also recorded in the timeline). */
  async sample(): Promise<HealthSample> {
    const at = Date.now();
    const [ready, grpc] = await Promise.all([
      fetch(`http://${this.#address}/ready`, { signal: AbortSignal.timeout(3_000) }).then(
        async (r) => ({ http: r.status, body: (await r.json()) as { ready: boolean; status: string; reason: string } }),
        () => ({ http: 0, body: { ready: false, status: '', reason: 'no answer' } }),
      ),
      call<{ status: string }>(this.#health, 'Check', { service: 'kafka' }, { deadlineMs: 3_000 }).then((r) => r.status, (e: Error & { code?: number }) => `error-${String(e.code)}`),
    ]);
    const s: HealthSample = { at, http: ready.http, ready: ready.body.ready, status: ready.body.status, reason: ready.body.reason, grpc };
    this.samples.push(s);
    return s;
  }

  start(everyMs = 250): this {
    this.#running ??= (async () => {
      while (!this.#stopped) {
        await this.sample();
        await sleep(everyMs);
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    this.#health.close();
  }

  /** Waits until a sample satisfies `ok` (sampling itself when the background loop is not running). */
  async until(ok: (s: HealthSample) => boolean, timeoutMs: number, since = 0): Promise<HealthSample | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.samples.find((s) => s.at >= since && ok(s));
      if (found !== undefined) return found;
      if (Date.now() > end) return undefined;
      if (this.#running === undefined) await this.sample();
      await sleep(100);
    }
  }

  /** Samples taken in [from, to). */
  between(from: number, to: number): HealthSample[] {
    return this.samples.filter((s) => s.at >= from && s.at < to);
  }
}

/** Vault/OpenBao service and batch tokens (`s.…`, `b.…`, Vault's `hvs.…`) anywhere in a text. */
const tokenShape = /\b(?:hv[sb]|s|b)\.[A-Za-z0-9_-]{20,}/g;

/**
 * What of the given secrets (and anything shaped like a Vault token) appears in the plugin's log lines. The plugin's
 * own Vault tokens are never known to the harness, hence the shape check.
 */
export function leakedSecrets(lines: string[], secrets: string[]): string[] {
  const text = lines.join('\n');
  const leaks = secrets.filter((s) => s.length >= 6 && text.includes(s)).map((s) => `${s.slice(0, 3)}… (known secret)`);
  for (const m of text.matchAll(tokenShape)) leaks.push(`${m[0].slice(0, 4)}… (token-shaped)`);
  return leaks;
}

/** Seconds between two instants, one decimal. */
export function secondsBetween(from: number, to: number): number {
  return Math.round((to - from) / 100) / 10;
}
