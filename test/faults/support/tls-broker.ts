import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../core/config/load.ts';
import { kafkaClients } from '../../../core/kafka/index.ts';
import { issue, makeCa, type CertFiles } from './tls-certs.ts';
import { Daemon } from './daemon.ts';
import { claimSlot } from './tls-slot.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TlsBroker {
  /** PLAINTEXT listener (inter-broker traffic, and the test's own checks). */
  plaintext: string;
  /** SASL_SSL listener, SCRAM-SHA-512. */
  saslSsl: string;
  /** SSL listener (TLS, no SASL, no client certificate). */
  ssl: string;
  /** SSL listener that requires a client certificate signed by `ca` (mTLS). */
  mtls: string;
  user: string;
  password: string;
  /** The CA that signed the broker's certificate (and `client`), and one that did not. */
  ca: CertFiles;
  /** A client certificate for the mTLS listener. */
  client: CertFiles;
  otherCa: CertFiles;
  stop(): Promise<void>;
}

/** The jars the shared infra resolved (scripts/infra/lib.sh keeps them in `<infra dir>/kafka-<version>/libs`). */
function kafkaLibs(): string {
  const shared = resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra');
  const dist = existsSync(shared) ? readdirSync(shared).filter((n) => /^kafka-\d/.test(n) && existsSync(join(shared, n, '.libs-complete'))).sort() : [];
  if (dist.length === 0) throw new Error(`no Kafka jars under ${shared}: run scripts/infra/up.sh kafka once`);
  return join(shared, dist.at(-1)!, 'libs');
}

/** The broker's process, found again by its pid file and config path when an earlier run left it behind. */
const brokerDaemon = (dir: string, command = 'java', args: string[] = []) => new Daemon({
  name: 'tls-kafka', command, args, logFile: join(dir, 'kafka.out'), pidFile: join(dir, 'kafka.pid'), marker: join(dir, 'server.properties'),
});

function properties(dir: string, ports: number[], keystore: string, truststore: string): string {
  const [plain, saslSsl, ssl, controller, mtls] = ports.map((p) => `127.0.0.1:${p}`);
  return `# Written by test/faults/support/tls-broker.ts for the TLS fault tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${controller}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://${plain},SASL_SSL://${saslSsl},SSL://${ssl},MTLS://${mtls},CONTROLLER://${controller}
advertised.listeners=PLAINTEXT://${plain},SASL_SSL://${saslSsl},SSL://${ssl},MTLS://${mtls}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,MTLS:SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# Kafka 2.7+ reads PEM files directly: the key (PKCS#8, unencrypted) followed by its certificate.
ssl.keystore.type=PEM
ssl.keystore.location=${keystore}
ssl.truststore.type=PEM
ssl.truststore.location=${truststore}
ssl.client.auth=none
# The MTLS listener accepts only clients with a certificate the truststore's CA signed.
listener.name.mtls.ssl.client.auth=required
log.dirs=${join(dir, 'data')}
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
group.consumer.session.timeout.ms=10000
group.consumer.min.session.timeout.ms=6000
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=500
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers in these tests join once; no reason to wait 3 s for more members.
group.initial.rebalance.delay.ms=0
`;
}

/**
 * A one-node KRaft broker of its own with a SASL_SSL (SCRAM-SHA-512), an SSL and an mTLS listener, using a CA and broker
 * certificate generated here, from the shared infra's jars. Fresh storage every start (format ~2 s, start ~4 s);
 * `stop()` ends the process group and deletes the data.
 */
export async function startTlsBroker(): Promise<TlsBroker> {
  const slot = await claimSlot('kafka', 29400, 5, 4, (dir) => brokerDaemon(dir).stopStale());
  const { dir, ports } = slot;
  const certs = join(dir, 'certs');
  rmSync(certs, { recursive: true, force: true });
  const ca = makeCa(certs, 'kafka-ca');
  const otherCa = makeCa(certs, 'other-ca');
  const leaf = issue(certs, 'broker', ca, 'server');
  const client = issue(certs, 'client', ca, 'client');
  const keystore = join(certs, 'broker-keystore.pem');
  writeFileSync(keystore, readFileSync(leaf.key, 'utf8') + readFileSync(leaf.cert, 'utf8'));
  const config = join(dir, 'server.properties');
  writeFileSync(config, properties(dir, ports, keystore, ca.cert));
  rmSync(join(dir, 'data'), { recursive: true, force: true });

  const libs = kafkaLibs();
  const password = randomBytes(18).toString('base64url');
  const java = process.env.JAVA_HOME === undefined ? 'java' : join(process.env.JAVA_HOME, 'bin', 'java');
  const jvm = ['-Xmx320m', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  execFileSync(java, [...jvm, `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-tools.properties')}`, '-Dkafka.tool.log.level=ERROR',
    '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '--config', config, '--cluster-id', clusterId,
    '--add-scram', `SCRAM-SHA-512=[name=admin,password=${password}]`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });

  // Its own process group, so stop() ends the JVM and anything it started with one signal.
  const daemon = brokerDaemon(dir, java, [...jvm, `-Dkafka.logs.dir=${join(dir, 'logs')}`, `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-broker.properties')}`,
    '-cp', `${libs}/*`, 'kafka.Kafka', config]);
  await daemon.start();
  const stop = async () => {
    await daemon.stop(15_000);
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    slot.release();
  };

  const plaintext = `127.0.0.1:${ports[0]}`;
  const probe = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: plaintext } })).cluster();
  try {
    const until = Date.now() + 60_000;
    for (;;) {
      if (!daemon.running) throw new Error(`the TLS broker exited during start-up; see ${join(dir, 'kafka.out')} and ${join(dir, 'logs', 'server.log')}`);
      const ok = await probe.ping({ timeoutMs: 2_000 }).then(() => true, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error(`the TLS broker did not answer on ${plaintext} within 60 s; see ${join(dir, 'logs', 'server.log')}`);
      await sleep(300);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await probe.close();
  }
  return {
    plaintext,
    saslSsl: `127.0.0.1:${ports[1]}`,
    ssl: `127.0.0.1:${ports[2]}`,
    mtls: `127.0.0.1:${ports[4]}`,
    user: 'admin',
    password,
    ca,
    client,
    otherCa,
    stop,
  };
}
