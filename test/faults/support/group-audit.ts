import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { headerMap, type KcatRecord } from '../../support/kcat.ts';

const run = promisify(execFile);
const tool = fileURLToPath(new URL('../../../scripts/infra/kafka-tool.sh', import.meta.url));

/** One row of `kafka-consumer-groups --describe`: the group's committed offset of a partition and its lag. */
export interface GroupPartition {
  topic: string;
  partition: number;
  /** Undefined where the tool prints `-` (nothing committed). */
  committed: bigint | undefined;
  end: bigint;
  /** end − committed; undefined when nothing is committed. */
  lag: bigint | undefined;
}

/**
 * The group's committed offsets as Kafka's own `kafka-consumer-groups --describe` reports them: a peer client that
 * is not ours, so the books do not take the plugin's word for what it committed. One JVM start (~3 s) per call.
 */
export async function describeGroup(brokers: string, group: string): Promise<GroupPartition[]> {
  const { stdout } = await run('bash', [tool, 'kafka-consumer-groups', '--bootstrap-server', brokers, '--describe', '--group', group], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const rows: GroupPartition[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s+/);
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    if (cells[0] !== group || !/^\d+$/.test(cells[2] ?? '')) continue;
    const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? BigInt(s) : undefined);
    rows.push({ topic: cells[1]!, partition: Number(cells[2]), committed: num(cells[3]), end: num(cells[4]) ?? 0n, lag: num(cells[5]) });
  }
  return rows;
}

/**
 * Partitions of `topics` (each with `partitions` partitions) whose lag is not zero, as `topic/partition …` lines. A
 * partition the tool does not list at all had nothing committed by anyone (it lists committed or assigned ones).
 */
export function lagging(rows: GroupPartition[], topics: string[], partitions: number): string[] {
  const out: string[] = [];
  for (const topic of topics) {
    for (let p = 0; p < partitions; p++) {
      const r = rows.find((row) => row.topic === topic && row.partition === p);
      if (r === undefined) out.push(`${topic}/${String(p)} not in the group's offsets`);
      else if ((r.lag ?? r.end) !== 0n) out.push(`${topic}/${String(p)} committed ${String(r.committed ?? '-')} end ${String(r.end)}`);
    }
  }
  return out;
}

/** One record of a dead-letter topic: the message id and where it came from (`prism-dlq-source`). */
export interface DeadLetter { id: string; source: string; reason: string }

/**
 * Everything on a dead-letter topic, read from the broker with kcat (librdkafka, an independent client): the proof
 * that a dead-lettered message was kept. A topic that does not exist holds nothing.
 */
export async function readDeadLetters(brokers: string, topic: string): Promise<DeadLetter[]> {
  const args = ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-J', '-q', '-X', 'topic.metadata.refresh.interval.ms=1000'];
  let stdout: string;
  try {
    ({ stdout } = await run('kcat', args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    if (/Unknown topic|not available|UNKNOWN_TOPIC/i.test(String((err as { stderr?: string }).stderr ?? err))) return [];
    throw err;
  }
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const h = headerMap(JSON.parse(l) as KcatRecord);
    return { id: h['prism-message-id'] ?? '', source: h['prism-dlq-source'] ?? '', reason: h['prism-dlq-reason'] ?? '' };
  });
}
