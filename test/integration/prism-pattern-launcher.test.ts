import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { pluginVersion } from '../../core/version.ts';
import { call, client } from '../support/grpc-client.ts';
import { useThrottledBundle, freePort, launchExecutable, type Launched } from '../support/launch.ts';
import { producerQueueLength, until } from '../support/throttle.ts';

/**
 * Plays upstream's pattern launcher (pkg/launcher): read deploy/manifest/kafka/manifest.yaml the way manifest.go
 * validates it, run its executable with the variables syncer.go sets (GRPC_PORT, HEALTH_PORT = GRPC_PORT + 1 there;
 * free ports here), poll http://localhost:$HEALTH_PORT/health for 200 within 30 s, and stop it with SIGTERM.
 */
const run = promisify(execFile);
const manifestPath = fileURLToPath(new URL('../../deploy/manifest/kafka/manifest.yaml', import.meta.url));
const manifest = parse(readFileSync(manifestPath, 'utf8')) as {
  name: string; version: string; executable: string; isolation_level: string;
  healthcheck: { port: number; path: string }; environment: Record<string, string>;
};
const id = randomUUID().slice(0, 8);
const clientIds = { drained: `prism-launcher-drained-${id}`, aborted: `prism-launcher-aborted-${id}` };
const bundle = useThrottledBundle(() => inject('kafkaBrokers'), Object.values(clientIds));

interface Started { plugin: Launched; grpcPort: number; healthPort: number }

async function launchPattern(config: Record<string, string>, extra: Record<string, string> = {}): Promise<Started> {
  const grpcPort = await freePort();
  const healthPort = await freePort();
  const executable = isAbsolute(manifest.executable) ? manifest.executable : join(dirname(manifestPath), manifest.executable);
  const plugin = launchExecutable(executable, [], {
    PATH: process.env.PATH ?? '',
    // Where this checkout's build went and which Node runs it (an operator copies dist/ beside the script instead).
    PRISM_KAFKA_PLUGIN_BUNDLE: bundle().bundle,
    PRISM_NODE: process.execPath,
    PATTERN_NAME: manifest.name,
    NAMESPACE: 'team-a',
    SESSION_ID: `session-${id}`,
    GRPC_PORT: String(grpcPort),
    HEALTH_PORT: String(healthPort),
    PROCESS_ID: `ns:team-a:${id}`,
    ...config,
    ...manifest.environment,
    ...extra,
  });
  return { plugin, grpcPort, healthPort };
}

describe('launched by the pattern launcher: manifest, GRPC_PORT and HEALTH_PORT', () => {
  it('ships a manifest the launcher accepts', () => {
    // One version source: the manifest says package.json's version (scripts/sync-version.mjs keeps it so on `npm version`).
    expect(manifest).toMatchObject({ name: 'kafka', version: pluginVersion, isolation_level: 'namespace', healthcheck: { path: '/health' } });
    expect(['none', 'namespace', 'session']).toContain(manifest.isolation_level);
    expect(manifest.healthcheck.port).toBeGreaterThan(0);
    // manifest.go refuses an executable without an execute bit.
    expect(() => accessSync(join(dirname(manifestPath), manifest.executable), constants.X_OK)).not.toThrow();
  });

  it('answers HTTP 200 on localhost:$HEALTH_PORT/health within 30 s, serves gRPC on GRPC_PORT, logs the launcher\'s identity', async () => {
    const t0 = Date.now();
    const { plugin, grpcPort, healthPort } = await launchPattern({ KAFKA_BROKERS: inject('kafkaBrokers') });
    try {
      let status = 0;
      while (status !== 200 && Date.now() - t0 < 30_000) {
        status = await fetch(`http://localhost:${healthPort}${manifest.healthcheck.path}`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(30_000);

      const line = await plugin.waitForLog('kafka plugin initialized');
      expect(line).toMatchObject({
        launch_mode: 'pattern-launcher', port: grpcPort, metrics_port: healthPort,
        pattern_name: 'kafka', pattern_namespace: 'team-a', session_id: `session-${id}`, process_id: `ns:team-a:${id}`,
      });
      // The probe port is HTTP only and carries the same probes and metrics; the gRPC port keeps both protocols.
      expect(await until(async () => (await fetch(`http://localhost:${healthPort}/ready`)).status === 200)).toBe(true);
      expect(await (await fetch(`http://localhost:${healthPort}/metrics`)).text()).toContain('kafka_plugin_health_status');
      expect((await fetch(`http://127.0.0.1:${grpcPort}/health`)).status).toBe(200);
      const lifecycle = client(`127.0.0.1:${grpcPort}`, 'prism.interfaces.LifecycleInterface');
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
      lifecycle.close();

      plugin.child.kill('SIGTERM');
      expect(await plugin.exited).toEqual({ code: 0, signal: null });
    } finally {
      plugin.child.kill('SIGKILL');
    }
  });

  /** Starts a plugin whose producer the broker throttles, and three publishes the broker holds for 3 s. */
  async function heldPublishes(clientId: string, extra: Record<string, string> = {}) {
    const topic = `prism-launcher-${clientId}`;
    const started = await launchPattern({
      KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: topic, KAFKA_CLIENT_ID: clientId, KAFKA_REQUEST_TIMEOUT_MS: '3000', KAFKA_COMPRESSION: 'none',
    }, extra);
    await started.plugin.waitForLog('kafka plugin initialized');
    const address = `127.0.0.1:${started.grpcPort}`;
    const queue = client(address, 'prism.interfaces.queue.QueueBasicInterface');
    await call(queue, 'Publish', { topic, payload: Buffer.alloc(200_000, 1) }, { deadlineMs: 30_000 });
    const payloads = ['held-a', 'held-b', 'held-c'].map((p) => `${p}-${id}`);
    const pending = payloads.map((payload) => call<{ offset: string }>(queue, 'Publish', { topic, payload: Buffer.from(payload) }, { deadlineMs: 30_000 }));
    for (const p of pending) p.catch(() => undefined);
    expect(await until(async () => (await producerQueueLength(address)) === payloads.length)).toBe(true);
    return { ...started, topic, payloads, pending, close: () => queue.close() };
  }

  it('SIGTERM drains, then stops: held publishes complete within the grace period (the manifest\'s 8 s) and are on the broker', async () => {
    const s = await heldPublishes(clientIds.drained);
    try {
      s.plugin.child.kill('SIGTERM');
      const outcomes = await Promise.allSettled(s.pending);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      expect(await s.plugin.exited).toEqual({ code: 0, signal: null });
      expect(s.plugin.logs.find((l) => l.msg === 'shutdown requested')).toMatchObject({ grace_ms: 8_000 });
      expect(s.plugin.logs.find((l) => l.msg === 'kafka plugin stopped')).toMatchObject({ drained: 3, aborted: 0 });
      const { stdout } = await run('kcat', ['-C', '-b', inject('kafkaBrokers'), '-t', s.topic, '-e', '-q', '-f', '%s\n'], { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 });
      for (const payload of s.payloads) expect(stdout.split('\n')).toContain(payload);
    } finally {
      s.close();
      s.plugin.child.kill('SIGKILL');
    }
  });

  it('SIGTERM with PRISM_SHUTDOWN_GRACE_SECONDS=1 stops after about a second, counting the aborted calls', async () => {
    const s = await heldPublishes(clientIds.aborted, { PRISM_SHUTDOWN_GRACE_SECONDS: '1' });
    try {
      const t0 = performance.now();
      s.plugin.child.kill('SIGTERM');
      expect(await s.plugin.exited).toEqual({ code: 0, signal: null });
      // One second of grace, plus closing the server (at most another second).
      expect(performance.now() - t0).toBeLessThan(2_500);
      expect(s.plugin.logs.find((l) => l.msg === 'kafka plugin stopped')).toMatchObject({ drained: 0, aborted: 3 });
      expect((await Promise.allSettled(s.pending)).map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    } finally {
      s.close();
      s.plugin.child.kill('SIGKILL');
    }
  });
});
