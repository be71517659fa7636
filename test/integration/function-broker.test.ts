import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHandler } from '../../adapters/function/handler.ts';
import type { HttpResponse } from '../../adapters/function/http-event.ts';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';
import { loadConfig } from '../../core/config/load.ts';
import { registerSecret } from '../support/test-logs.ts';

/**
 * A broker of this test's own (never the shared one on 9092, which other tests use): the infrastructure scripts
 * with another state directory and free ports, reusing the shared jar cache. Stopped, started, and wiped here.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const infraDir = join(root, '.cache', 'infra-function');
let env: NodeJS.ProcessEnv;
let brokers: string;
let saslBrokers: string;

async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Points this state directory at the shared Kafka jars (lib.sh reuses them when their marker matches). */
function shareJars(): void {
  const shared = join(process.env.PRISM_INFRA_DIR ?? join(root, '.cache', 'infra'));
  if (!existsSync(shared)) return;
  for (const name of readdirSync(shared).filter((n) => n.startsWith('kafka-') && existsSync(join(shared, n, '.libs-complete')))) {
    const mine = join(infraDir, name);
    mkdirSync(mine, { recursive: true });
    if (!existsSync(join(mine, 'libs'))) symlinkSync(join(shared, name, 'libs'), join(mine, 'libs'));
    copyFileSync(join(shared, name, '.libs-complete'), join(mine, '.libs-complete'));
  }
}

const infra = (script: 'up.sh' | 'down.sh', ...args: string[]) =>
  execFileSync('bash', [join(root, 'scripts', 'infra', script), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });

beforeAll(async () => {
  const [plaintext, sasl, controller] = await freePorts(3);
  env = { ...process.env, PRISM_INFRA_DIR: infraDir, KAFKA_PLAINTEXT_PORT: String(plaintext), KAFKA_SASL_PORT: String(sasl), KAFKA_CONTROLLER_PORT: String(controller) };
  delete env.KAFKA_BROKERS;
  brokers = `127.0.0.1:${plaintext}`;
  saslBrokers = `127.0.0.1:${sasl}`;
  // A run that was killed may have left its broker behind: start from nothing.
  if (existsSync(infraDir)) infra('down.sh', 'kafka', '--wipe');
  shareJars();
  infra('up.sh', 'kafka');
}, 120_000);

afterAll(() => {
  infra('down.sh', 'kafka', '--wipe');
  rmSync(infraDir, { recursive: true, force: true });
}, 60_000);

const context = (ms = 8_000) => {
  const until = Date.now() + ms;
  return { awsRequestId: `broker-${Date.now()}`, getRemainingTimeInMillis: () => until - Date.now() };
};
const publish = (topic: string) => ({ operation: 'publish', request: { topic, payload: Buffer.from('x').toString('base64') } });

describe('the function runtime when its broker goes away and comes back', () => {
  it('fails the next invocation with UNAVAILABLE (503 over HTTP), and succeeds after the broker returns, in the same process', async () => {
    const runtime = new FunctionRuntime({ env: { KAFKA_BROKERS: brokers, PRISM_LOG_LEVEL: 'silent' } });
    const handler = eventHandler(runtime);
    try {
      expect(await handler(publish('fn-restart'), context())).toMatchObject({ topic: 'fn-restart' });

      infra('down.sh', 'kafka');
      const started = Date.now();
      const down = await runtime.invoke('publish', publish('fn-restart').request, context(5_000));
      expect(down).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', retryable: true } });
      expect(Date.now() - started).toBeLessThan(5_000);
      // Refused at once, or cut while connected, depending on when the broker went away.
      if (!down.ok) expect(down.error.message).toMatch(/Connection to 127\.0\.0\.1:\d+ failed|Connection closed|no answer from the brokers/);
      const http = await handler({ version: '2.0', rawPath: '/publish', requestContext: { http: { method: 'POST' } }, body: JSON.stringify(publish('fn-restart').request) }, context(5_000)) as HttpResponse;
      expect([http.statusCode, (JSON.parse(http.body) as { code: string }).code]).toEqual([503, 'UNAVAILABLE']);

      infra('up.sh', 'kafka');
      expect(await handler(publish('fn-restart'), context())).toMatchObject({ topic: 'fn-restart' });
      expect(await handler({ operation: 'health' }, context())).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
      // The same cached clients reconnected by themselves: nothing was rebuilt.
      expect(runtime.cacheStats).toMatchObject({ builds: 1, failedBuilds: 0 });
    } finally {
      // The next test needs the broker whatever happened here.
      infra('up.sh', 'kafka');
      await runtime.close();
    }
  });

  it('rebuilds its connections with rotated credentials after the broker refused the old ones', async () => {
    const password = readFileSync(join(infraDir, 'kafka', 'admin.password'), 'utf8').trim();
    registerSecret(password);
    const passwords = ['not-the-password', password];
    let loads = 0;
    const runtime = new FunctionRuntime({
      // Stands for a secret store: the first read returns credentials that were rotated away, the next the new ones.
      config: () => loadConfig({ env: { KAFKA_BROKERS: saslBrokers, KAFKA_SASL_USERNAME: 'admin', KAFKA_SASL_PASSWORD: passwords[Math.min(loads++, 1)], PRISM_LOG_LEVEL: 'silent' } }),
    });
    try {
      const refused = await runtime.invoke('publish', publish('fn-rotation').request, context(6_000));
      expect(refused).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      const accepted = await runtime.invoke('publish', publish('fn-rotation').request, context());
      expect(accepted).toMatchObject({ ok: true, body: { topic: 'fn-rotation' } });
      expect(runtime.cacheStats).toMatchObject({ builds: 2, disposals: 1 });
    } finally {
      await runtime.close();
    }
  });
});
