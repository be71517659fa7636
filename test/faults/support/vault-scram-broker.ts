import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../../core/config/load.ts';
import { kafkaClients } from '../../../core/kafka/index.ts';
import { Daemon } from './daemon.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A one-node KRaft broker of our own whose SASL listener makes every client re-authenticate within
 * `reauthMs` (`connections.max.reauth.ms`, KIP-368). That is what makes a revoked SCRAM user bite on connections
 * that are already open: without it Kafka checks credentials only when a connection is made, and a deleted user's
 * open connections keep working. The shared broker (9092/9093) is not configured that way and is not touched.
 *
 * Uses the jars of the project's infra dir; its state (storage, generated admin password and client config, logs)
 * lives under `.cache/faults/vault/kafka-<port>`. The storage is formatted afresh at every start (~3 s): a
 * restarted single-node KRaft broker here came back without the SCRAM users of its bootstrap records (its metadata
 * snapshots held none), and the test users of earlier runs are of no use anyway.
 */
export class ReauthBroker {
  readonly plaintext: string;
  readonly sasl: string;
  readonly dir: string;
  readonly adminUser = 'admin';
  readonly #daemon: Daemon;
  readonly #config: string;
  readonly port: number;
  readonly reauthMs: number;

  constructor(port: number, reauthMs: number) {
    this.port = port;
    this.reauthMs = reauthMs;
    this.plaintext = `127.0.0.1:${String(port)}`;
    this.sasl = `127.0.0.1:${String(port + 1)}`;
    this.dir = join(root, '.cache/faults/vault', `kafka-${String(port)}`);
    this.#config = join(this.dir, 'server.properties');
    this.#daemon = new Daemon({
      name: 'kafka',
      command: process.env.JAVA_HOME === undefined ? 'java' : join(process.env.JAVA_HOME, 'bin/java'),
      args: [
        '-Xmx384m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${join(this.dir, 'logs')}`, `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-broker.properties')}`,
        '-cp', `${libsDir()}/*`, 'kafka.Kafka', this.#config,
      ],
      logFile: join(this.dir, 'logs/kafka.out'),
      pidFile: join(this.dir, 'kafka.pid'),
      marker: this.#config,
    });
  }

  /** `--command-config` for Kafka's tools (ScramUsers) as the admin user on the SASL listener. */
  get adminClientConfig(): string {
    return join(this.dir, 'admin-client.properties');
  }

  get adminPassword(): string {
    return readFileSync(join(this.dir, 'admin.password'), 'utf8').trim();
  }

  /** Formats fresh storage (with the admin SCRAM user), starts the broker and waits until it answers. */
  async start(timeoutMs = 90_000): Promise<void> {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const passwordFile = join(this.dir, 'admin.password');
    if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
    this.#writeConfig();
    // A broker of an earlier run that was left behind must not hold the data dir while it is replaced.
    await this.#daemon.stopStale();
    rmSync(join(this.dir, 'data'), { recursive: true, force: true });
    const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
    await run('bash', [join(root, 'scripts/infra/kafka-tool.sh'), 'storage', 'format', '--config', this.#config, '--cluster-id', clusterId,
      '--add-scram', `SCRAM-SHA-512=[name=${this.adminUser},password=${this.adminPassword}]`], { timeout: 120_000 });
    await this.#daemon.start();
    const kafka = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: this.plaintext } })).cluster();
    const end = Date.now() + timeoutMs;
    try {
      for (;;) {
        const ok = await kafka.ping({ timeoutMs: 2_000 }).then(() => true, () => false);
        if (ok) return;
        if (!this.#daemon.running) throw new Error(`private broker exited at start; log: ${join(this.dir, 'logs')}`);
        if (Date.now() > end) throw new Error(`private broker ${this.plaintext} did not answer within ${String(timeoutMs)} ms; log: ${join(this.dir, 'logs')}`);
        await sleep(500);
      }
    } finally {
      await kafka.close();
    }
  }

  async stop(): Promise<void> {
    await this.#daemon.stop(30_000);
  }

  #writeConfig(): void {
    const controller = `127.0.0.1:${String(this.port + 2)}`;
    writeFileSync(this.#config, [
      '# Written by test/faults/support/vault-scram-broker.ts: a private broker whose SASL sessions expire.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${controller}`,
      'controller.listener.names=CONTROLLER',
      `listeners=PLAINTEXT://${this.plaintext},SASL_PLAINTEXT://${this.sasl},CONTROLLER://${controller}`,
      `advertised.listeners=PLAINTEXT://${this.plaintext},SASL_PLAINTEXT://${this.sasl}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      // Every SASL session ends after this long: the client must authenticate again, with what it holds now.
      `connections.max.reauth.ms=${String(this.reauthMs)}`,
      `log.dirs=${join(this.dir, 'data')}`,
      'auto.create.topics.enable=true',
      'num.partitions=3',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      // Consumer-protocol groups (ADR 0004): the same session timeout and heartbeat as the main test broker.
      'group.consumer.session.timeout.ms=10000',
      'group.consumer.min.session.timeout.ms=6000',
      'group.consumer.heartbeat.interval.ms=1000',
      'group.consumer.min.heartbeat.interval.ms=500',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=5',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'));
    writeFileSync(this.adminClientConfig, [
      `bootstrap.servers=${this.sasl}`,
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${this.adminUser}" password="${this.adminPassword}";`,
      '',
    ].join('\n'), { mode: 0o600 });
  }
}

/** The broker jars scripts/infra resolved (`<infra dir>/kafka-<version>/libs`, complete ones only). */
function libsDir(): string {
  const infra = resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra');
  const versions = existsSync(infra) ? readdirSync(infra).filter((n) => /^kafka-\d/.test(n) && existsSync(join(infra, n, '.libs-complete'))) : [];
  const wanted = `kafka-${process.env.KAFKA_VERSION ?? '4.1.1'}`;
  const pick = versions.includes(wanted) ? wanted : versions.sort().at(-1);
  if (pick === undefined) throw new Error(`no Kafka jars under ${infra}: run scripts/infra/up.sh kafka first`);
  return join(infra, pick, 'libs');
}
