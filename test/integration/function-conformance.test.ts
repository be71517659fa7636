import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cases, conformanceEnv, unreachableCases, type Case } from '../conformance/cases.ts';
import { functionDriver, grpcDriver, type Driver } from '../conformance/drivers.ts';

/** A loopback port nobody listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs every case through each adapter (concurrently: every run uses its own topics and groups) and compares. */
function conformance(title: string, list: Case[], env: () => Promise<Record<string, string>>) {
  describe(title, () => {
    let drivers: Driver[] = [];
    beforeAll(async () => {
      const e = await env();
      drivers = [await grpcDriver(e), functionDriver('function-direct', e), functionDriver('function-http', e)];
    });
    afterAll(async () => {
      await Promise.all(drivers.map((d) => d.close()));
    });

    it.each(list.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const results = await Promise.all(drivers.map(async (d) => [d.name, await c.run(d)] as const));
      const views: Record<string, unknown> = Object.fromEntries(results);
      expect(views['function-direct'], 'function adapter (direct) vs gRPC adapter').toEqual(views.grpc);
      expect(views['function-http'], 'function adapter (HTTP) vs gRPC adapter').toEqual(views.grpc);
    });
  });
}

conformance('one conformance suite, the gRPC and the function adapter, against the real broker', cases, () =>
  Promise.resolve({ KAFKA_BROKERS: inject('kafkaBrokers'), ...conformanceEnv }));

conformance('the same suite with the broker unreachable', unreachableCases, async () =>
  ({ KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`, ...conformanceEnv }));
