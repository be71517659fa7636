import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { registerSecret } from '../test-logs.ts';
import { adminCredentials, writeAdminFiles } from './admin-credentials.ts';
import { testImages } from './images.ts';
import { startKafkaContainer } from './kafka.ts';
import { startOpenBaoContainer } from './openbao.ts';
import { configureTestcontainers, dockerHostHint } from './runtime.ts';

/** What the integration tests are told about the containers (test/integration/testcontainers.test.ts checks it). */
export interface ContainerServicesInfo {
  /** Every container carries the label org.prism.test.run=<run> (scripts/testcontainers/run.sh removes leftovers by it). */
  run: string;
  kafka: { id: string; image: string; clusterId: string; logFile: string };
  openbao: { id: string; image: string; logFile: string };
}

export interface ContainerServices {
  /** The same keys and meanings as `scripts/infra/status.sh --env` prints for the scripted services. */
  addresses: Record<string, string>;
  info: ContainerServicesInfo;
  stop: () => Promise<void>;
}

/** Kafka's admin user: the scripted broker's (scripts/infra/lib.sh). */
const ADMIN_USER = 'admin';

/**
 * Kafka and OpenBao as containers, through testcontainers and the Docker API at DOCKER_HOST (Docker, or podman's
 * `podman system service` socket), instead of the scripted services. Both start at once; when one fails, the other
 * is stopped again. Their state (the admin credentials, the containers' logs) is under
 * <root>/.cache/testcontainers/runs/<run>-<start>/, kept a day for a look after a failure.
 */
export async function startContainerServices(root: string): Promise<ContainerServices> {
  configureTestcontainers();
  const images = testImages(root);
  await getContainerRuntimeClient().catch((err: unknown) => {
    throw new Error(`PRISM_TEST_SERVICES=testcontainers needs a Docker API (Docker, or \`podman system service\`), and ${dockerHostHint()} does not answer: ${(err as Error).message}. npm run test:testcontainers starts podman's.`);
  });
  const run = process.env.PRISM_TC_RUN_ID ?? randomUUID();
  // One directory per start: each project whose global set-up this is (integration, faults) starts its own pair.
  const dir = runDirectory(join(root, '.cache', 'testcontainers', 'runs'), `${run}-${randomUUID().slice(0, 8)}`);
  const logDir = join(dir, 'logs');
  const labels = { 'org.prism.test.run': run };
  const admin = adminCredentials(join(dir, 'kafka'), ADMIN_USER);
  // Not the scripted server's fixed token: one per run, which the scripted server would refuse (a fallback to it fails).
  const token = `prism-test-${randomUUID()}`;
  registerSecret(token);
  const [kafka, openbao] = await Promise.allSettled([
    startKafkaContainer({ image: images.kafka, admin, logDir, labels }),
    startOpenBaoContainer({ image: images.openbao, token, logDir, labels }),
  ]);
  const started: { stop: () => Promise<void> }[] = [kafka, openbao].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => { await Promise.all(started.map((c) => c.stop())); };
  if (kafka.status === 'rejected' || openbao.status === 'rejected') {
    await stop();
    throw new AggregateError([kafka, openbao].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])), 'the test containers did not start');
  }
  writeAdminFiles(admin, kafka.value.saslBrokers);
  return {
    addresses: {
      KAFKA_BROKERS: kafka.value.brokers,
      KAFKA_SASL_BROKERS: kafka.value.saslBrokers,
      KAFKA_SASL_USERNAME: admin.user,
      KAFKA_SASL_PASSWORD_FILE: admin.passwordFile,
      KAFKA_ADMIN_CLIENT_CONFIG: admin.clientConfig,
      OPENBAO_ADDR: openbao.value.addr,
      OPENBAO_TOKEN: openbao.value.token,
    },
    info: {
      run,
      kafka: { id: kafka.value.id, image: kafka.value.image, clusterId: kafka.value.clusterId, logFile: kafka.value.logFile },
      openbao: { id: openbao.value.id, image: openbao.value.image, logFile: openbao.value.logFile },
    },
    stop,
  };
}

/** A new directory for this start's state; those older than a day go (each holds a stale admin password). */
function runDirectory(runs: string, name: string): string {
  mkdirSync(runs, { recursive: true });
  for (const name of readdirSync(runs)) {
    const old = join(runs, name);
    if (Date.now() - statSync(old).mtimeMs > 86_400_000) rmSync(old, { recursive: true, force: true });
  }
  const dir = join(runs, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
