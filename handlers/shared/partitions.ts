import { invalidArgument, isPluginError, type FieldViolation } from '../../core/errors.ts';
import type { ReaderPort } from '../../core/kafka/reader-port.ts';

/**
 * Explicit partitions are checked against their topic before anything is sent, and a batch as a whole: a record
 * addressed to a partition its topic does not have refuses the call before anything is written (the producer alone
 * refuses just that record and writes the others of a batch). Topics that do not exist yet are left to the
 * producer. A count that looks too small is read again fresh before refusing, so a partition added a moment ago is
 * accepted.
 */
export async function checkPartitions(
  reader: Pick<ReaderPort, 'partitionCount'> | undefined,
  records: readonly { topic: string; partition?: number | undefined }[],
  field: (index: number) => string,
): Promise<void> {
  if (reader === undefined) return;
  const highest = new Map<string, number>();
  for (const r of records) if (r.partition !== undefined) highest.set(r.topic, Math.max(r.partition, highest.get(r.topic) ?? 0));
  const counts = new Map<string, number>();
  for (const [topic, partition] of highest) {
    try {
      let count = await reader.partitionCount(topic);
      if (partition >= count) count = await reader.partitionCount(topic, { fresh: true });
      counts.set(topic, count);
    } catch (err) {
      if (isPluginError(err) && err.code === 'NOT_FOUND') continue;
      throw err;
    }
  }
  const violations: FieldViolation[] = [];
  records.forEach((r, i) => {
    const count = counts.get(r.topic);
    if (r.partition !== undefined && count !== undefined && r.partition >= count) {
      violations.push({ field: field(i), expected: `a partition of topic ${r.topic} (0–${count - 1})`, got: String(r.partition) });
    }
  });
  if (violations.length > 0) throw invalidArgument(violations);
}
