// The broker the bench runs against: started when it does not answer, topics per run (deleted at the end), the
// direct @platformatic/kafka producer every baseline uses, and bulk fills.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { log } from './lib.ts';
import { brokers, runId } from './params.ts';
import { root } from './paths.ts';

function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(',')[0]!.split(':') as [string, string];
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port), timeout: 1000 }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

export async function ensureBroker(): Promise<void> {
  if (await reachable(brokers)) return;
  if (process.env.KAFKA_BROKERS !== undefined) throw new Error(`KAFKA_BROKERS=${brokers} does not answer`);
  log('starting the local broker (scripts/infra/up.sh)');
  execFileSync('bash', [join(root, 'scripts/infra/up.sh')], { stdio: ['ignore', process.stderr, 'inherit'] });
}

const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [brokers] });
const created: string[] = [];

/** A new topic of this run (3 partitions, as every scenario uses). */
export async function newTopic(name: string): Promise<string> {
  const topic = `bench-${runId}-${name}`;
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  await admin.metadata({ topics: [topic] });
  created.push(topic);
  return topic;
}

/** Deletes this run's topics (the consume backlog alone is hundreds of MB) and closes the admin client. */
export async function cleanUp(): Promise<void> {
  if (created.length > 0) await admin.deleteTopics({ topics: created }).catch((err: unknown) => log(`could not delete the bench topics: ${String(err)}`));
  await admin.close().catch(() => undefined);
}

export function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(join(root, '.cache/infra/kafka/kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export const directProducer = (id: string) => new Producer({ clientId: `bench-${id}`, bootstrapBrokers: [brokers], acks: ProduceAcks.ALL, idempotent: true, compression: 'none' });

/** Writes `count` records of `size` bytes with the direct producer (batches of 2,000, 4 in flight). */
export async function fill(topic: string, count: number, size: number): Promise<void> {
  const p = directProducer('fill');
  const payload = Buffer.alloc(size, 97);
  try {
    const per = 2000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i += per) {
      sends.push(p.send({ messages: Array.from({ length: Math.min(per, count - i) }, () => ({ topic, value: payload })) }));
      if (sends.length >= 4) await sends.shift();
    }
    await Promise.all(sends);
  } finally {
    await p.close();
  }
}
