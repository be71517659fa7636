import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import type { ContainerServices, ContainerServicesInfo } from '../support/containers/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSaslBrokers: string;
    openbaoAddr: string;
    openbaoToken: string;
    toolsBin: string;
    /** Admin SCRAM user of the local broker's SASL listener, and the client config Kafka's tools use with it. */
    kafkaAdminUser: string;
    kafkaAdminPasswordFile: string;
    kafkaAdminClientConfig: string;
    /** The containers the suite talks to with PRISM_TEST_SERVICES=testcontainers, else null. */
    testContainers: ContainerServicesInfo | null;
  }
}

/**
 * Integration tests run against real services. Uses the cluster in KAFKA_BROKERS when set; otherwise starts the
 * project's local broker and OpenBao (idempotent), or with PRISM_TEST_SERVICES=testcontainers the same two as
 * containers through a Docker API (test/support/containers/; stopped by the returned teardown). Fails, never
 * skips, when a service does not answer.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.KAFKA_BROKERS;
  const services = process.env.PRISM_TEST_SERVICES ?? 'scripted';
  if (services !== 'scripted' && services !== 'testcontainers') throw new Error(`PRISM_TEST_SERVICES must be scripted (the default) or testcontainers, not ${services}`);
  if (services === 'testcontainers' && external !== undefined) throw new Error('PRISM_TEST_SERVICES=testcontainers starts its own broker: unset KAFKA_BROKERS');
  let local: Record<string, string> = {};
  let containers: ContainerServices | undefined;
  // What the suite needs on the machine (JDK, Maven, kcat, Prometheus): installed when missing, a no-op otherwise.
  for (const script of ['scripts/infra/install-prereqs.sh', 'scripts/install-observability-tools.sh']) {
    execFileSync('bash', [`${root}/${script}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (services === 'testcontainers') {
    // Loaded only on this path: the default one never loads testcontainers.
    const { startContainerServices } = await import('../support/containers/services.ts');
    containers = await startContainerServices(root);
    local = containers.addresses;
  } else if (external === undefined) {
    execFileSync('bash', [`${root}/scripts/infra/up.sh`], { stdio: 'inherit' });
    local = infraAddresses();
  }
  try {
    await checkAndProvide(project, external, local);
  } catch (err) {
    await containers?.stop();
    throw err;
  }
  project.provide('testContainers', containers?.info ?? null);
  return containers?.stop;
}

/** Fails unless both services answer; tells the tests where they are. */
async function checkAndProvide(project: TestProject, external: string | undefined, local: Record<string, string>): Promise<void> {
  const brokers = external ?? local.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const kafka = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: brokers } })).cluster();
  try {
    await kafka.ping({ timeoutMs: 10_000 });
  } catch (err) {
    throw new Error(`integration tests need a Kafka broker at ${brokers}, and it does not answer: ${(err as Error).message}`);
  } finally {
    await kafka.close();
  }
  const openbaoAddr = process.env.PRISM_TEST_OPENBAO_ADDR ?? local.OPENBAO_ADDR ?? 'http://127.0.0.1:8200';
  const health = await fetch(`${openbaoAddr}/v1/sys/health`).catch((err: unknown) => err as Error);
  if (health instanceof Error || !health.ok) {
    throw new Error(`integration tests need OpenBao at ${openbaoAddr}: ${health instanceof Error ? health.message : `HTTP ${health.status}`}`);
  }
  // Real third-party clients (grpcurl, grpc-health-probe) exercise the server the way operators do.
  const toolsBin = execFileSync('bash', [`${root}/scripts/install-tools.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  project.provide('toolsBin', toolsBin);
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSaslBrokers', process.env.PRISM_TEST_KAFKA_SASL_BROKERS ?? local.KAFKA_SASL_BROKERS ?? '127.0.0.1:9093');
  project.provide('openbaoAddr', openbaoAddr);
  project.provide('kafkaAdminUser', process.env.PRISM_TEST_KAFKA_ADMIN_USER ?? local.KAFKA_SASL_USERNAME ?? 'admin');
  project.provide('kafkaAdminPasswordFile', process.env.PRISM_TEST_KAFKA_ADMIN_PASSWORD_FILE ?? local.KAFKA_SASL_PASSWORD_FILE ?? `${root}/.cache/infra/kafka/admin.password`);
  project.provide('kafkaAdminClientConfig', process.env.PRISM_TEST_KAFKA_ADMIN_CLIENT_CONFIG ?? local.KAFKA_ADMIN_CLIENT_CONFIG ?? `${root}/.cache/infra/kafka/admin-client.properties`);
  project.provide('openbaoToken', process.env.PRISM_TEST_OPENBAO_TOKEN ?? local.OPENBAO_TOKEN ?? 'prism-dev-root');
}

/** The addresses the local infrastructure is serving (ports may be overridden, see scripts/infra/lib.sh). */
function infraAddresses(): Record<string, string> {
  const text = execFileSync('bash', [`${root}/scripts/infra/status.sh`, '--env'], { encoding: 'utf8' });
  return Object.fromEntries(text.split('\n').map((l) => /^([A-Z_]+)=(\S*)/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
}
