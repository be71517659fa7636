import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { headerMap, type KcatRecord } from './kcat.ts';

const run = promisify(execFile);

/** Every record of every partition of `topic`, read with kcat (an independent client) from the beginning to the end. */
export async function kcatReadTopic(brokers: string, topic: string): Promise<KcatRecord[]> {
  const args = ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-J', '-q'];
  const { stdout } = await run('kcat', args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as KcatRecord);
}

/** The partition of each record, in the order of its numeric `header` (e.g. the publisher's `sequence`). */
export function partitionsInOrder(records: KcatRecord[], header: string): number[] {
  return records.map((r) => ({ seq: Number(headerMap(r)[header]), partition: r.partition })).sort((a, b) => a.seq - b.seq).map((r) => r.partition);
}
