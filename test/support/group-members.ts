import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const kafkaTool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));

/** Kafka's consumer-group tool describing `groups`: its member rows (stdout) and its one-line verdict on failure. */
async function describeMembers(bootstrap: string, groups: string[]): Promise<{ rows: string[]; error: string | undefined }> {
  const args = ['kafka-consumer-groups', '--bootstrap-server', bootstrap, '--describe', '--members', ...groups.flatMap((g) => ['--group', g])];
  const { stdout } = await run(kafkaTool, args, { timeout: 120_000, maxBuffer: 64 << 20 });
  const lines = stdout.split('\n');
  // The tool exits 0 when a describe fails, and says so on stdout ("Error: Executing consumer group command failed due to …").
  const error = lines.find((l) => l.startsWith('Error: '));
  return { rows: lines, error };
}

/**
 * Members of consumer-protocol groups (KIP-848), as the brokers' coordinators describe them, read with Kafka's own
 * kafka-consumer-groups tool (an independent client; it uses ConsumerGroupDescribe for these groups: the classic
 * DescribeGroups does not list them). Unknown or dead groups count zero. One JVM start per call (a few seconds, more
 * on busy cores), plus one per group that turns out not to exist.
 */
export async function groupMemberCount(bootstrap: string, groups: string[]): Promise<number> {
  let asked = [...new Set(groups)];
  for (;;) {
    if (asked.length === 0) return 0;
    const { rows, error } = await describeMembers(bootstrap, asked);
    if (error !== undefined) {
      // One unknown group fails the whole describe: drop it and ask again about the others.
      const missing = /GroupIdNotFoundException: Group (\S+) not found\./.exec(error)?.[1];
      if (missing === undefined || !asked.includes(missing)) throw new Error(`kafka-consumer-groups --describe --members: ${error}`);
      asked = asked.filter((g) => g !== missing);
      continue;
    }
    // A member row starts with its group id; headers start with GROUP, and an empty group's line goes to stderr.
    const ids = new Set(asked);
    return rows.filter((l) => ids.has(l.split(/\s+/, 1)[0]!)).length;
  }
}
