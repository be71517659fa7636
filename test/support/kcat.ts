import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers: string[];
  key: string | null;
  payload: string | null;
}

/**
 * Reads records with kcat (librdkafka), an independent Kafka client: `count` records of one partition from `offset`.
 * Values come back as kcat prints them (text).
 */
export async function kcatRead(brokers: string, topic: string, partition: number, offset: string | number, count: number): Promise<KcatRecord[]> {
  const args = ['-C', '-b', brokers, '-t', topic, '-p', String(partition), '-o', String(offset), '-c', String(count), '-e', '-J', '-q'];
  const { stdout } = await run('kcat', args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as KcatRecord);
}

/** kcat -J prints headers as a flat [name, value, name, value…] list. */
export function headerMap(record: KcatRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < record.headers.length; i += 2) out[record.headers[i]!] = record.headers[i + 1]!;
  return out;
}
