import { randomUUID } from 'node:crypto';
import type { OpenBao } from '../../support/openbao.ts';
import type { PluginProcess } from '../../support/plugin-process.ts';
import type { ScramUsers } from '../../support/scram.ts';
import { alive, startVaultPlugin, stopPlugin } from './vault-plugin.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rotatedMsg = 'kafka clients moved to the new credentials';

interface User { username: string; password: string }

/**
 * The storm's plugin processes, on the shared broker's SASL listener with credentials from OpenBao (each plugin its
 * own KV secret, re-read every second), so that one of them can rotate its credentials cheaply: two SCRAM users
 * exist, and a rotation writes the other one into that plugin's secret. Processes are killed and restarted by index.
 */
export class StormFleet {
  readonly plugins: (PluginProcess | undefined)[] = [];
  readonly #users: User[];
  readonly #using: number[] = [];
  readonly #start: (i: number) => Promise<PluginProcess>;
  readonly #bao: OpenBao;
  readonly #prefix: string;

  private constructor(bao: OpenBao, prefix: string, users: User[], start: (i: number) => Promise<PluginProcess>) {
    this.#bao = bao;
    this.#prefix = prefix;
    this.#users = users;
    this.#start = start;
  }

  /** Two SCRAM users, an AppRole, a secret per plugin, and `count` plugins running. */
  static async start(count: number, o: { saslBrokers: string; users: ScramUsers; bao: OpenBao; vaultAddr: string; env: Record<string, string> }): Promise<StormFleet> {
    const prefix = `prism-storm-${randomUUID().slice(0, 8)}`;
    const users = [0, 1].map((n) => ({ username: `${prefix}-${String(n)}`, password: randomUUID() }));
    // Each kafka-configs call is a JVM start: both users at once.
    await Promise.all(users.map((u) => o.users.create(u.username, u.password)));
    await o.bao.enableAppRole();
    const role = await o.bao.appRole(prefix, `${prefix}/`, { token_ttl: '600s', token_max_ttl: '1200s' });
    const start = (i: number) => startVaultPlugin({
      brokers: o.saslBrokers, vaultAddr: o.vaultAddr, role, path: `${prefix}/p${String(i)}`,
      // info, not the helper's debug: per-message debug lines from three plugins would take a core of their own.
      env: { VAULT_KV_REFRESH: '1s', PRISM_LOG_LEVEL: 'info', ...o.env },
    });
    const fleet = new StormFleet(o.bao, prefix, users, start);
    for (let i = 0; i < count; i++) {
      fleet.#using[i] = 0;
      await o.bao.kvPut(`${prefix}/p${String(i)}`, { ...users[0]! });
    }
    await Promise.all(Array.from({ length: count }, async (_, i) => { fleet.plugins[i] = await start(i); }));
    return fleet;
  }

  /** The address of plugin `i` while it runs. */
  address(i: number): string | undefined {
    const p = this.plugins[i];
    return p !== undefined && alive(p) ? p.address : undefined;
  }

  /** A running plugin's address, `preferred` when it runs (else the next one that does). */
  liveAddress(preferred: number): string {
    for (let k = 0; k < this.plugins.length; k++) {
      const a = this.address((preferred + k) % this.plugins.length);
      if (a !== undefined) return a;
    }
    return this.plugins[preferred]?.address ?? '127.0.0.1:1';
  }

  /** SIGKILL (no shutdown at all) or SIGTERM (the plugin's orderly stop), then a new process on the same secret. */
  async restart(i: number, how: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const p = this.plugins[i];
    this.plugins[i] = undefined;
    if (p !== undefined && how === 'SIGKILL') {
      p.child.kill('SIGKILL');
      await p.exited;
    } else await stopPlugin(p);
    this.plugins[i] = await this.#start(i);
  }

  /** Writes the other SCRAM user into plugin `i`'s secret; resolves with whether the plugin moved within 20 s. */
  async rotate(i: number): Promise<boolean> {
    const p = this.plugins[i];
    if (p === undefined) return false;
    const before = p.stdout.filter((l) => l.includes(rotatedMsg)).length;
    const next = 1 - (this.#using[i] ?? 0);
    this.#using[i] = next;
    await this.#bao.kvPut(`${this.#prefix}/p${String(i)}`, { ...this.#users[next]! });
    for (const end = Date.now() + 20_000; Date.now() < end; await sleep(100)) {
      if (p.stdout.filter((l) => l.includes(rotatedMsg)).length > before) return true;
    }
    return false;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.plugins.map(async (p) => {
      if (p === undefined) return;
      p.child.kill('SIGKILL');
      await p.exited;
    }));
  }
}
