import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../core/config/load.ts';
import { kafkaClients } from '../../../core/kafka/index.ts';
import { Daemon } from './daemon.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jvm = ['-Xmx320m', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];

/** The Kafka jars the shared infrastructure resolved (scripts/infra/up.sh): private brokers run the same ones. */
export function kafkaLibs(): string {
  const shared = resolve(root, process.env.PRISM_INFRA_DIR ?? '.cache/infra');
  const dist = existsSync(shared) ? readdirSync(shared).filter((n) => /^kafka-\d/.test(n) && existsSync(join(shared, n, '.libs-complete'))).sort() : [];
  if (dist.length === 0) throw new Error(`no Kafka jars under ${shared}: run scripts/infra/up.sh kafka once`);
  return join(shared, dist.at(-1)!, 'libs');
}

/** A private broker's process, found again by its pid file and config path when an earlier run left it behind. */
export const kraftDaemon = (name: string, dir: string, command = 'java', args: string[] = []) => new Daemon({
  name, command, args, logFile: join(dir, 'kafka.out'), pidFile: join(dir, 'kafka.pid'), marker: join(dir, 'server.properties'),
});

export interface KraftNodeOptions {
  /** The daemon's name (`tls-kafka`, `pki-kafka`), as kraftDaemon was given it to stop stale ones. */
  name: string;
  /** Its directory: `server.properties` is there, storage goes to `data/`, logs to `logs/` and `kafka.out`. */
  dir: string;
  /** Its PLAINTEXT listener, `host:port`, which the start-up check pings. */
  plaintext: string;
  /** More `kafka-storage format` arguments (e.g. `--add-scram`). */
  formatArgs?: string[];
  /** Called once the node stopped (or failed to start): the port slot is given back. */
  released: () => void;
}

/**
 * Formats fresh storage for the one-node KRaft broker configured in `dir/server.properties` (~2 s), starts it in a
 * process group of its own and waits until its PLAINTEXT listener answers metadata (~4 s). Resolves to its stop,
 * which ends the process group, deletes the data and releases the slot. Fails, stopping it, when it does not answer
 * within 60 s.
 */
export async function startKraftNode(o: KraftNodeOptions): Promise<() => Promise<void>> {
  const libs = kafkaLibs();
  const config = join(o.dir, 'server.properties');
  rmSync(join(o.dir, 'data'), { recursive: true, force: true });
  const java = process.env.JAVA_HOME === undefined ? 'java' : join(process.env.JAVA_HOME, 'bin', 'java');
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  execFileSync(java, [...jvm, `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-tools.properties')}`, '-Dkafka.tool.log.level=ERROR',
    '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '--config', config, '--cluster-id', clusterId, ...(o.formatArgs ?? [])], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const daemon = kraftDaemon(o.name, o.dir, java, [...jvm, `-Dkafka.logs.dir=${join(o.dir, 'logs')}`, `-Dlog4j2.configurationFile=${join(root, 'scripts/infra/log4j2-broker.properties')}`,
    '-cp', `${libs}/*`, 'kafka.Kafka', config]);
  await daemon.start();
  const stop = async () => {
    await daemon.stop(15_000);
    rmSync(join(o.dir, 'data'), { recursive: true, force: true });
    o.released();
  };
  const probe = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: o.plaintext } })).cluster();
  try {
    const until = Date.now() + 60_000;
    for (;;) {
      if (!daemon.running) throw new Error(`the ${o.name} broker exited during start-up; see ${join(o.dir, 'kafka.out')} and ${join(o.dir, 'logs', 'server.log')}`);
      const ok = await probe.ping({ timeoutMs: 2_000 }).then(() => true, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error(`the ${o.name} broker did not answer on ${o.plaintext} within 60 s; see ${join(o.dir, 'logs', 'server.log')}`);
      await sleep(300);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await probe.close();
  }
  return stop;
}
