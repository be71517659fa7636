import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kafkaAdmin, type ClusterMetadata, type KafkaAdmin, type TopicMetadata } from '../../support/kafka-admin.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const host = '127.0.0.1';

export interface ClusterNode {
  id: number;
  /** PLAINTEXT listener, `127.0.0.1:port` (clients and replication). */
  address: string;
  port: number;
  controllerPort: number;
  /** The JVM's pid while this cluster object runs it. */
  pid: number | undefined;
}

export interface KafkaCluster {
  readonly nodes: ClusterNode[];
  /** Every node's PLAINTEXT address, comma-separated (bootstrap list for the plugin). */
  readonly brokers: string;
  /** Wipes the state dir, formats three KRaft nodes and starts them; resolves when all three brokers are registered. */
  up(): Promise<void>;
  /** Starts one node again (after a kill) and waits until it is a registered broker. */
  start(id: number): Promise<void>;
  /** Sends `signal` to one node's JVM and waits until the process is gone. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Kills every node this object started (the state is wiped at the next `up()`, so no clean shutdown); idempotent. */
  down(): Promise<void>;
  /** Creates a topic; `leader` is put first in every partition's replica list, so it is every partition's preferred leader. */
  createTopic(topic: string, options: { partitions: number; replicas: number; minInsyncReplicas: number; leader?: number }): Promise<void>;
  /** Fresh metadata of a topic (leader, replicas and ISR of each partition, in partition order) from the live brokers. */
  describe(topic: string): Promise<TopicMetadata>;
  /** Fresh cluster metadata (live brokers, controller). */
  metadata(): Promise<ClusterMetadata>;
  /**
   * The node coordinating a consumer group: the leader of the group's __consumer_offsets partition (read with kcat);
   * undefined while that topic does not exist yet.
   */
  coordinator(group: string): Promise<number | undefined>;
}

/**
 * Kills the Kafka JVMs an earlier, aborted run left in a cluster state dir (each found by the pid file of its node
 * dir, and only while that pid still runs that node's config), and waits until they are gone.
 */
export async function stopLeftoverNodes(clusterDir: string): Promise<void> {
  const dir = resolve(root, clusterDir);
  if (!existsSync(dir)) return;
  await Promise.all(readdirSync(dir).filter((name) => name.startsWith('node-')).map(async (name) => {
    const pidFile = join(dir, name, 'kafka.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const ours = () => {
      try {
        return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(join(dir, name, 'server.properties'));
      } catch {
        return false;
      }
    };
    if (!ours()) return;
    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 10_000;
    while (ours() && Date.now() < until) await sleep(100);
  }));
}

/**
 * A three-node Kafka cluster on loopback for fault tests: three KRaft nodes in combined mode (broker + controller
 * each, a three-voter quorum), started from the jars scripts/infra resolved (never downloaded again here). Each node
 * is a child JVM of the test process, so a test can SIGKILL one by pid. State (configs, data, logs, pid files) lives
 * under `dir` and is wiped at every `up()`; a JVM left behind by an earlier, aborted run (found by its pid file and
 * its config path on the command line) is killed first.
 */
export function kafkaCluster(options: { dir: string; basePort: number; size?: number }): KafkaCluster {
  const dir = resolve(root, options.dir);
  const size = options.size ?? 3;
  // Ports: brokers at basePort + 0…size-1, controllers at basePort + size…2·size-1.
  const nodes: ClusterNode[] = Array.from({ length: size }, (_, i) => ({
    id: i + 1,
    port: options.basePort + i,
    controllerPort: options.basePort + size + i,
    address: `${host}:${String(options.basePort + i)}`,
    pid: undefined,
  }));
  const brokers = nodes.map((n) => n.address).join(',');
  const children = new Map<number, ChildProcess>();
  let java = '';
  let libs = '';
  let admin: KafkaAdmin | undefined;

  const nodeDir = (id: number) => join(dir, `node-${String(id)}`);
  const configFile = (id: number) => join(nodeDir(id), 'server.properties');
  const pidFile = (id: number) => join(nodeDir(id), 'kafka.pid');

  // Whatever happens to the test, no JVM of ours outlives the test process.
  const killAll = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const node = (id: number) => {
    const n = nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${String(id)} in this cluster (1–${String(size)})`);
    return n;
  };

  const getAdmin = () => (admin ??= kafkaAdmin(nodes.map((n) => n.address), {
    clientId: 'prism-fault-cluster-admin',
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    retries: 2,
    retryDelayMs: 250,
  }));

  /** A fresh client each time: the cached one may hold a connection to the node just killed. */
  async function freshAdmin(): Promise<KafkaAdmin> {
    await admin?.close().catch(() => undefined);
    admin = undefined;
    return getAdmin();
  }

  async function metadata(): Promise<ClusterMetadata> {
    return (await freshAdmin()).cluster();
  }

  /** The java binary and the jar dir of scripts/infra (lib.sh resolves the jars once; here they already exist). */
  async function resolveJars(): Promise<void> {
    if (java !== '') return;
    const script = `source ${JSON.stringify(join(root, 'scripts/infra/lib.sh'))}; require_java; ensure_kafka_libs; printf '%s\\n%s\\n' "$JAVA_BIN" "$KAFKA_LIBS_DIR"`;
    const { stdout } = await run('bash', ['-c', script], { timeout: 600_000 });
    [java = '', libs = ''] = stdout.trim().split('\n');
    if (!existsSync(libs)) throw new Error(`no Kafka jars at ${libs}`);
  }

  function writeConfig(n: ClusterNode): void {
    const voters = nodes.map((x) => `${String(x.id)}@${host}:${String(x.controllerPort)}`).join(',');
    mkdirSync(join(nodeDir(n.id), 'logs'), { recursive: true });
    writeFileSync(configFile(n.id), [
      '# Written by test/faults/support/cluster.ts: one of three combined KRaft nodes.',
      'process.roles=broker,controller',
      `node.id=${String(n.id)}`,
      `controller.quorum.voters=${voters}`,
      'controller.listener.names=CONTROLLER',
      `listeners=PLAINTEXT://${n.address},CONTROLLER://${host}:${String(n.controllerPort)}`,
      `advertised.listeners=PLAINTEXT://${n.address}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(nodeDir(n.id), 'data')}`,
      'num.partitions=3',
      'default.replication.factor=3',
      'min.insync.replicas=2',
      'unclean.leader.election.enable=false',
      // Consumer-protocol groups (ADR 0004): the same session timeout and heartbeat as the main test broker.
      'group.consumer.session.timeout.ms=10000',
      'group.consumer.min.session.timeout.ms=6000',
      'group.consumer.heartbeat.interval.ms=1000',
      'group.consumer.min.heartbeat.interval.ms=500',
      'offsets.topic.replication.factor=3',
      // Fewer offsets partitions than the default 50: the group coordinator is ready in seconds, not tens of them.
      'offsets.topic.num.partitions=6',
      'transaction.state.log.replication.factor=3',
      'transaction.state.log.min.isr=2',
      'share.coordinator.state.topic.replication.factor=3',
      'share.coordinator.state.topic.min.isr=2',
      'group.initial.rebalance.delay.ms=0',
      // A SIGKILLed broker is fenced (and its partitions get new leaders) when its session lapses: 6 s, not 9.
      'broker.session.timeout.ms=6000',
      'broker.heartbeat.interval.ms=1000',
      '',
    ].join('\n'));
  }

  async function format(clusterId: string): Promise<void> {
    await Promise.all(nodes.map((n) => run(java, [
      '-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-tools.properties')}`, '-Dkafka.tool.log.level=ERROR',
      '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '--config', configFile(n.id), '--cluster-id', clusterId,
    ], { timeout: 120_000 })));
  }

  function spawnNode(n: ClusterNode): ChildProcess {
    const out = openSync(join(nodeDir(n.id), 'logs', 'kafka.out'), 'a');
    const child = spawn(java, [
      '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
      // C1 only: a much cheaper start on two cores, and plenty for a few thousand records a second.
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${join(nodeDir(n.id), 'logs')}`,
      `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-broker.properties')}`,
      '-cp', `${libs}/*`, 'kafka.Kafka', configFile(n.id),
    ], { stdio: ['ignore', out, out] });
    closeSync(out);
    children.set(n.id, child);
    n.pid = child.pid;
    writeFileSync(pidFile(n.id), `${String(child.pid)}\n`);
    child.once('exit', () => {
      if (children.get(n.id) === child) {
        children.delete(n.id);
        n.pid = undefined;
      }
    });
    return child;
  }

  /** Waits until the live brokers include `ids` (unfenced, as metadata lists them), or fails with the logs' tails. */
  async function waitForBrokers(ids: number[], timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      for (const id of ids) if (!children.has(id)) throw new Error(`Kafka node ${String(id)} exited during start-up:\n${logTail(id)}`);
      try {
        const md = await metadata();
        if (ids.every((id) => md.brokers.has(id))) return;
        last = `live brokers: ${[...md.brokers.keys()].join(',')}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(500);
    }
    throw new Error(`Kafka nodes ${ids.join(',')} not all registered within ${String(timeoutMs)} ms (${last}):\n${ids.map(logTail).join('\n')}`);
  }

  function logTail(id: number): string {
    const file = join(nodeDir(id), 'logs', 'server.log');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '(no server.log)';
    return `--- node ${String(id)} server.log (tail) ---\n${text.split('\n').slice(-25).join('\n')}`;
  }

  async function stopChild(id: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = children.get(id);
    if (child === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  return {
    nodes,
    brokers,
    async up() {
      await resolveJars();
      await stopLeftoverNodes(dir);
      rmSync(dir, { recursive: true, force: true });
      for (const n of nodes) writeConfig(n);
      // Kafka's cluster ids are 16 random bytes in base64url; it refuses ones that start with '-'.
      const clusterId = `A${randomBytes(16).toString('base64url').slice(1, 22)}`;
      await format(clusterId);
      for (const n of nodes) spawnNode(n);
      await waitForBrokers(nodes.map((n) => n.id), 90_000);
    },
    async start(id) {
      const n = node(id);
      if (!children.has(id)) spawnNode(n);
      await waitForBrokers([id], 90_000);
    },
    async kill(id, signal = 'SIGKILL') {
      node(id);
      await stopChild(id, signal, 30_000);
    },
    async down() {
      await admin?.close().catch(() => undefined);
      admin = undefined;
      await Promise.all(nodes.map((n) => stopChild(n.id, 'SIGKILL', 10_000)));
      process.removeListener('exit', killAll);
    },
    async createTopic(topic, { partitions, replicas, minInsyncReplicas, leader }) {
      const ids = nodes.map((n) => n.id);
      const assignments = leader === undefined ? undefined : Array.from({ length: partitions }, (_, p) => {
        const others = ids.filter((id) => id !== leader);
        // Rotate the followers so the replicas differ per partition; the leader always comes first.
        const rotated = [...others.slice(p % others.length), ...others.slice(0, p % others.length)];
        return [leader, ...rotated].slice(0, replicas);
      });
      await getAdmin().createTopic(topic, {
        ...(assignments === undefined ? { partitions, replicas } : { assignments }),
        configs: { 'min.insync.replicas': String(minInsyncReplicas) },
      });
    },
    async describe(topic) {
      const t = await (await freshAdmin()).topic(topic);
      if (t === undefined) throw new Error(`topic ${topic} not in the metadata`);
      return t;
    },
    metadata,
    async coordinator(group) {
      const { stdout } = await run('kcat', ['-L', '-J', '-b', brokers, '-t', '__consumer_offsets', '-m', '5'], { timeout: 15_000 });
      const md = JSON.parse(stdout) as { topics: { topic: string; partitions?: { partition: number; leader: number }[] }[] };
      const partitions = md.topics.find((t) => t.topic === '__consumer_offsets')?.partitions ?? [];
      if (partitions.length === 0) return undefined;
      return partitions.find((p) => p.partition === kafkaAbs(javaHash(group)) % partitions.length)?.leader;
    },
  };
}

/** Java's String.hashCode, by which Kafka maps a group id to its __consumer_offsets partition. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs (MIN_VALUE maps to 0, not to itself). */
const kafkaAbs = (n: number) => (n === -2147483648 ? 0 : Math.abs(n));
