import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GenericContainer, PullPolicy, Wait } from 'testcontainers';
import type { AdminCredentials } from './admin-credentials.ts';
import { freePorts } from './free-ports.ts';
import { keepLog, logTail } from './log-file.ts';

export interface KafkaContainer {
  id: string;
  image: string;
  /** The cluster id the container's storage was formatted with: what the broker reports in its metadata. */
  clusterId: string;
  /** PLAINTEXT listener, host:port. */
  brokers: string;
  /** SASL_PLAINTEXT listener (SCRAM-SHA-512 and -256), host:port. */
  saslBrokers: string;
  logFile: string;
  stop: () => Promise<void>;
}

/** base64url of 16 random bytes, the form Kafka wants; not starting with '-' (Kafka takes those for a flag). */
const newClusterId = () => `A${randomBytes(16).toString('base64url').slice(1)}`;

/**
 * One KRaft broker+controller from the image scripts/testcontainers/images.sh builds (the scripted broker's jars
 * and config), on the host's network with free ports, the given admin SCRAM user made at format time. Ready when
 * the broker logs "Kafka Server started" (all listeners bound, the broker registered and unfenced).
 */
export async function startKafkaContainer(options: { image: string; admin: AdminCredentials; logDir: string; labels: Record<string, string>; startupTimeoutMs?: number }): Promise<KafkaContainer> {
  const [plaintext, sasl, controller] = (await freePorts(3)) as [number, number, number];
  const clusterId = newClusterId();
  const logFile = join(options.logDir, `kafka-${plaintext}.log`);
  const started = await new GenericContainer(options.image)
    .withPullPolicy(PullPolicy.neverPull())
    .withNetworkMode('host')
    .withEnvironment({
      KAFKA_PLAINTEXT_PORT: String(plaintext), KAFKA_SASL_PORT: String(sasl), KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_CLUSTER_ID: clusterId, KAFKA_ADMIN_USER: options.admin.user, KAFKA_ADMIN_PASSWORD: options.admin.password,
    })
    .withLabels({ ...options.labels, 'org.prism.test.service': 'kafka' })
    .withLogConsumer(keepLog(logFile))
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(options.startupTimeoutMs ?? 120_000)
    .start()
    .catch((err: unknown) => {
      throw new Error(`the Kafka container (${options.image}) did not start: ${(err as Error).message}\nlast lines of ${logFile}:\n${logTail(logFile)}`);
    });
  return {
    id: started.getId(),
    image: options.image,
    clusterId,
    brokers: `127.0.0.1:${plaintext}`,
    saslBrokers: `127.0.0.1:${sasl}`,
    logFile,
    // A clean shutdown takes a few seconds; the data is thrown away with the container anyway.
    stop: async () => { await started.stop({ timeout: 10_000 }); },
  };
}
