import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issue, makeCa, type CertFiles } from './tls-certs.ts';
import { kraftDaemon, startKraftNode } from './kraft-node.ts';
import { claimSlot } from './tls-slot.ts';


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
  const slot = await claimSlot('kafka', 29400, 5, 4, (dir) => kraftDaemon('tls-kafka', dir).stopStale());
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
  const password = randomBytes(18).toString('base64url');
  const plaintext = `127.0.0.1:${ports[0]}`;
  const stop = await startKraftNode({
    name: 'tls-kafka', dir, plaintext, released: () => slot.release(),
    formatArgs: ['--add-scram', `SCRAM-SHA-512=[name=admin,password=${password}]`],
  });
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
