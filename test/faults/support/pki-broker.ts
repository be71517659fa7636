import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kraftDaemon, startKraftNode } from './kraft-node.ts';
import { claimSlot } from './tls-slot.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface PkiBroker {
  /** PLAINTEXT listener: inter-broker traffic and the test's admin (User:ANONYMOUS is a super user there). */
  plaintext: string;
  /** SSL listener requiring a client certificate signed by the PKI CA; the certificate's CN is the principal. */
  mtls: string;
  dir: string;
  /** Grants `principal` (User:<CN>) what the plugin needs: every topic, every group, idempotent writes. */
  allow(principal: string): Promise<void>;
  stop(): Promise<void>;
}

function properties(dir: string, ports: number[], keystore: string, truststore: string): string {
  const [plain, mtls, controller] = ports.map((p) => `127.0.0.1:${p}`);
  return `# Written by test/faults/support/pki-broker.ts for the PKI (mTLS) tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${controller}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://${plain},MTLS://${mtls},CONTROLLER://${controller}
advertised.listeners=PLAINTEXT://${plain},MTLS://${mtls}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,MTLS:SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
# The broker's own certificate (from the PKI engine's broker role) and, as truststore, the PKI root CA.
ssl.keystore.type=PEM
ssl.keystore.location=${keystore}
ssl.truststore.type=PEM
ssl.truststore.location=${truststore}
listener.name.mtls.ssl.client.auth=required
# The client certificate's CN is the principal: CN=prism-kafka-plugin -> User:prism-kafka-plugin.
ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,RULE:^CN=([^,]+),.*$/$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# Inter-broker, controller and the test's admin use PLAINTEXT, whose principal is ANONYMOUS: nothing reaches it from
# outside this machine (loopback only), and the mTLS listener never maps a certificate to ANONYMOUS.
super.users=User:ANONYMOUS
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
group.initial.rebalance.delay.ms=0
`;
}

/**
 * A one-node KRaft broker of its own with an mTLS listener for the PKI tests: `keystore` is the broker's key and
 * certificate (PEM, PKCS#8 key first), `truststore` the PKI CA (PEM). Fresh storage every start; `stop()` ends the
 * process group and deletes the data. Ports from 29500 (blocks of 4: PLAINTEXT, MTLS, CONTROLLER, spare).
 */
export async function startPkiBroker(options: { keystore: (dir: string) => Promise<string>; truststore: string }): Promise<PkiBroker> {
  const slot = await claimSlot('pki-kafka', 29500, 4, 4, (d) => kraftDaemon('pki-kafka', d).stopStale());
  const { dir, ports } = slot;
  const keystore = await options.keystore(dir);
  const config = join(dir, 'server.properties');
  writeFileSync(config, properties(dir, ports, keystore, options.truststore));
  const plaintext = `127.0.0.1:${ports[0]}`;
  const stop = await startKraftNode({ name: 'pki-kafka', dir, plaintext, released: () => slot.release() });
  const acls = (args: string[]) => run('bash', [join(root, 'scripts/infra/kafka-tool.sh'), 'kafka-acls', '--bootstrap-server', plaintext, ...args], { timeout: 60_000 });
  return {
    plaintext,
    mtls: `127.0.0.1:${ports[1]}`,
    dir,
    async allow(principal: string) {
      // One call per resource type: the CLI applies --operation to every resource named.
      await acls(['--add', '--allow-principal', principal, '--operation', 'All', '--topic', '*', '--group', '*']);
      await acls(['--add', '--allow-principal', principal, '--operation', 'IdempotentWrite', '--operation', 'Describe', '--cluster']);
    },
    stop,
  };
}

/** The ACLs the broker holds, as the CLI lists them (for a test's failure message). */
export async function listAcls(plaintext: string): Promise<string> {
  const { stdout } = await run('bash', [join(root, 'scripts/infra/kafka-tool.sh'), 'kafka-acls', '--bootstrap-server', plaintext, '--list'], { timeout: 60_000 });
  return stdout;
}
