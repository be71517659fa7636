import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PluginProcess } from '../support/plugin-process.ts';
import { Ledger, loadSeconds, timeoutFor } from './support/ledger.ts';
import { awaitDelivery, consumeLoad, publishLoad } from './support/load.ts';
import { baoBinary, PersistentOpenBao } from './support/vault-openbao.ts';
import { alive, HealthWatch, leakedSecrets, secondsBetween, startVaultPlugin, stopPlugin, type HealthSample } from './support/vault-plugin.ts';

/**
 * Issue #11, scenario 4a: the secret store goes away under publish+consume load. README (Security): cached
 * credentials stay in use (health DEGRADED with the reason, still ready), and the plugin recovers by itself when
 * Vault answers again. The Kafka credentials here are a KV v2 secret (no lease, so they never expire while cached):
 * no publish may fail at any point.
 *
 * The OpenBao is a private, persistent one (raft storage, static auto-unseal; see support/vault-openbao.ts), so a
 * stop is a real outage and a start a real restart: the AppRole, the policy and the secret survive, as in
 * production. The AppRole's tokens live 4 s (max 12 s), so renewals and re-logins fall into every outage.
 * The Kafka user is the shared broker's admin (its password read from the infra's file): each scenario has its own
 * secret, AppRole and topic.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BAO_PORT = 29300;
const outageS = loadSeconds(8);
// Vault calls time out after 10 s (core/secrets/vault-client.ts): the hang must outlast that to be noticed.
const hangS = loadSeconds(16);

let bao: PersistentOpenBao;

beforeAll(async () => {
  bao = new PersistentOpenBao(BAO_PORT, await baoBinary());
  await bao.start();
}, 120_000);

afterAll(async () => {
  await bao?.stop();
});

const healthy = (s: HealthSample) => s.http === 200 && s.status === 'HEALTHY' && s.grpc === 'SERVING';
const degradedByVault = (s: HealthSample) => s.status === 'DEGRADED' && /vault/i.test(s.reason);

/** The Kafka credentials in a KV secret of the scenario's own, an AppRole that may read it, and the plugin on it. */
async function setUp(name: string, ttl: { token_ttl: string; token_max_ttl: string }) {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const user = { username: inject('kafkaAdminUser'), password: readFileSync(inject('kafkaAdminPasswordFile'), 'utf8').trim() };
  const role = await bao.admin.appRole(`faults-${id}`, `faults-${id}/`, ttl);
  await bao.admin.kvPut(`faults-${id}/kafka`, user);
  const plugin = await startVaultPlugin({
    brokers: inject('kafkaSaslBrokers'), vaultAddr: bao.addr, role, path: `faults-${id}/kafka`,
    env: { VAULT_RENEW_MARGIN: '1s', VAULT_KV_REFRESH: '2s' },
  });
  const watch = new HealthWatch(plugin.address);
  const first = await watch.until(healthy, 30_000);
  if (first === undefined) throw new Error(`the plugin did not become healthy: ${JSON.stringify(watch.samples.at(-1))}\n${plugin.stdout.slice(-20).join('\n')}`);
  return { id, user, role, plugin, watch, secrets: [user.password, role.secretId, ...bao.secrets] };
}

async function tearDown(s: { plugin: PluginProcess; watch: HealthWatch } | undefined): Promise<void> {
  if (s === undefined) return;
  await s.watch.stop();
  await stopPlugin(s.plugin);
}

/** The log lines (JSON) whose msg is one of these, after `since`. */
const linesAfter = (p: PluginProcess, since: number, msg: string) =>
  p.stdout.filter((l) => l.includes(`"msg":"${msg}"`) && Date.parse((JSON.parse(l) as { time: string }).time) >= since).length;

interface Scenario {
  name: string;
  ttl: { token_ttl: string; token_max_ttl: string };
  /** How long the fault lasts before `heal()`. */
  seconds: number;
  fault: () => Promise<void>;
  heal: () => Promise<void>;
  /** Whether health must be seen DEGRADED (naming Vault) while the fault lasts. */
  degrades: boolean;
  /** Recovery (HEALTHY, and a new Vault login) is timed from the fault instead of the heal. */
  recoversAlone?: boolean;
}

/**
 * One scenario: the plugin under publish+consume load, `fault()` for `seconds`, `heal()`, then the load runs on for
 * 3 s and every acknowledged message must arrive. Asserts what README's Security section promises while the cached
 * credentials are valid: no publish fails, readiness holds, DEGRADED with the reason, recovery by itself.
 */
async function scenario(o: Scenario): Promise<void> {
  const ledger = new Ledger(o.name);
  let s: Awaited<ReturnType<typeof setUp>> | undefined;
  let load: ReturnType<typeof publishLoad> | undefined;
  let consumer: ReturnType<typeof consumeLoad> | undefined;
  let healed = false;
  try {
    s = await setUp(o.name, o.ttl);
    const { plugin, watch } = s;
    const topic = `faults-${s.id}`;
    watch.start();
    consumer = consumeLoad({ address: () => plugin.address, topic, group: `g-${topic}`, ledger });
    load = publishLoad({ address: () => plugin.address, topic, ledger, callers: 4, deadlineMs: 5_000, pauseMs: 5 });
    await sleep(3_000);

    const faultAt = Date.now();
    await o.fault();
    const degradedWhileFaulty = o.degrades ? await watch.until(degradedByVault, o.seconds * 1_000, faultAt) : undefined;
    await sleep(Math.max(0, faultAt + o.seconds * 1_000 - Date.now()));

    const healAt = Date.now();
    await o.heal();
    healed = true;
    const since = o.recoversAlone === true ? faultAt : healAt;
    // Recovered: HEALTHY after the plugin logged in again (before that, a HEALTHY sample may just not have noticed).
    const loginEnd = Date.now() + 60_000;
    while (linesAfter(plugin, since, 'vault login') === 0 && Date.now() < loginEnd) await sleep(100);
    const recovered = await watch.until(healthy, 30_000, Date.now() - 100);
    const back = recovered?.at ?? Date.now();
    await sleep(3_000);
    await load.stop();
    const missing = await awaitDelivery(ledger, 30_000);
    await consumer.stop();

    const degraded = degradedWhileFaulty ?? watch.samples.find((x) => x.at >= faultAt && degradedByVault(x));
    const after = watch.between(faultAt, Date.now());
    const notReady = after.filter((x) => !x.ready || x.http !== 200 || x.grpc !== 'SERVING');
    const logins = linesAfter(plugin, since, 'vault login');
    const stillUp = alive(plugin);
    ledger.extra.fault_s = secondsBetween(faultAt, healAt);
    ledger.extra.degraded_after_s = degraded === undefined ? 'never' : secondsBetween(faultAt, degraded.at);
    ledger.extra.recovery_s = recovered === undefined ? 'never' : secondsBetween(since, back);
    ledger.extra.not_ready_samples = `${String(notReady.length)}/${String(after.length)}`;
    ledger.extra.logins_after = logins;
    ledger.extra.hung = load.hung;
    ledger.extra.streams = consumer.streams;
    const report = ledger.publish();

    expect(missing, 'acknowledged messages never delivered').toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.acked).toBeGreaterThan(100);
    // The credentials were cached and valid the whole time: not one publish may fail.
    expect(report.failures).toEqual({});
    expect(load.hung).toBe(0);
    if (o.degrades) {
      expect(degraded, 'health DEGRADED, naming Vault, while it is unavailable').toBeDefined();
      expect(degraded!.reason).toMatch(/cached credentials/);
    }
    expect(notReady, 'readiness (/ready 200, gRPC SERVING) held throughout').toEqual([]);
    expect(recovered, 'health HEALTHY again by itself').toBeDefined();
    // The retry backoff is capped at 30 s: recovery may not take longer than that plus a probe.
    expect(back - since).toBeLessThan(o.recoversAlone === true ? 20_000 : 45_000);
    // The token expired or was lost during the fault: recovering means logging in again.
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(stillUp).toBe(true);
    expect(leakedSecrets(plugin.stdout, s.secrets)).toEqual([]);
  } finally {
    if (!healed) await o.heal().catch(() => undefined);
    await load?.stop();
    await consumer?.stop();
    await tearDown(s);
  }
}

const shortLived = { token_ttl: '4s', token_max_ttl: '12s' };

describe('fault: Vault/OpenBao unavailable under load', () => {
  it(`OpenBao stopped for ${String(outageS)} s, then restarted: no publish fails, DEGRADED (ready), recovers by itself`, async () => {
    await scenario({ name: 'vault-outage', ttl: shortLived, seconds: outageS, degrades: true, fault: () => bao.stop(), heal: () => bao.start() });
  }, timeoutFor(outageS, 150));

  // A hung server (or a partition) accepts connections and answers nothing: every Vault call must be bounded, or
  // the renewal loop waits forever and health keeps calling stale credentials fresh.
  it(`OpenBao frozen (SIGSTOP) for ${String(hangS)} s, then resumed: no publish fails, DEGRADED (ready), recovers by itself`, async () => {
    await scenario({ name: 'vault-hang', ttl: shortLived, seconds: hangS, degrades: true, fault: () => Promise.resolve(bao.freeze()), heal: () => Promise.resolve(bao.thaw()) });
  }, timeoutFor(hangS, 150));

  // What a dev-mode (in-memory) server's restart, a restore from backup or an operator's revocation leaves behind:
  // Vault answers again but no longer knows the plugin's token, whose TTL (60 s here) is far from over. The plugin
  // must log in again on the refusal rather than wait for the end of a TTL that no longer means anything.
  it('OpenBao forgets the plugin\'s token (revoked): the plugin logs in again at once, no publish fails', async () => {
    await scenario({
      name: 'vault-token-lost', ttl: { token_ttl: '60s', token_max_ttl: '300s' }, seconds: 0, degrades: false, recoversAlone: true,
      fault: async () => {
        await bao.admin.request('PUT', 'sys/leases/revoke-prefix/auth/approle/login');
      },
      heal: () => Promise.resolve(),
    });
  }, timeoutFor(0, 150));
});
