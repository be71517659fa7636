import { z } from 'zod';
import { invalidArgument, isPluginError, PluginError } from '../core/errors.ts';
import type { GroupPort, PartitionOffsets } from '../core/kafka/group-port.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { parseReceipt, type FunctionReceipt } from './queue/function-receipts.ts';

/** What a function-mode ack needs: the group port's offsets and commits. */
export interface AckOffsetsDeps {
  groups: GroupPort;
}

const receipts = z
  .array(z.string().refine((r) => parseReceipt(r) !== undefined, { error: 'expected a receipt from consume_batch' }), { error: 'expected a list of receipts' })
  .min(1, { error: 'expected at least one receipt' })
  .max(10_000, { error: 'expected at most 10000 receipts' });

/**
 * A receipt names a message consume_batch delivered: its partition exists and its offset is below the log's end.
 * Others (forged, or from a topic since recreated) would commit positions past the end: refused, nothing committed.
 */
function refuseUnknownMessages(topic: string, byPartition: Map<number, FunctionReceipt[]>, partitions: PartitionOffsets[]): void {
  const ends = new Map(partitions.map((p) => [p.partition, BigInt(p.end)]));
  for (const [partition, list] of byPartition) {
    const end = ends.get(partition);
    const after = list.reduce((max, r) => (r.offset + 1n > max ? r.offset + 1n : max), 0n);
    if (end === undefined || after > end) {
      const where = end === undefined ? `${topic} has no partition ${partition}` : `partition ${partition} of ${topic} ends at offset ${end}`;
      throw invalidArgument([{ field: 'receipts', expected: `receipts from consume_batch (${where})`, got: `a receipt of offset ${after - 1n} in partition ${partition}` }]);
    }
  }
}

/** First wait before committing again while the group has members (another consume_batch is joined). */
const busyRetryMs = 250;

/** Commits while the group is empty, retrying until shortly before the deadline; Kafka refuses otherwise. */
async function commitWhenEmpty(groups: GroupPort, group: string, topic: string, offsets: Map<number, string>, ctx: CallContext): Promise<void> {
  // Without a deadline (a caller that set none), keep trying for a bounded while.
  const deadline = ctx.deadline ?? Date.now() + 10_000;
  for (let wait = busyRetryMs; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      await groups.seek(group, topic, { offsets });
      return;
    } catch (err) {
      const busy = isPluginError(err) && err.code === 'FAILED_PRECONDITION';
      if (!busy || Date.now() + wait >= deadline - 100 || ctx.signal.aborted) {
        if (!busy) throw err;
        throw new PluginError('FAILED_PRECONDITION', `group ${group} has active members (a consume_batch in progress, or a gRPC Consume stream); function-mode acks commit while the group is empty: retry`, { cause: err, retryable: true });
      }
      ctx.log.debug({ group, topic, wait_ms: wait }, 'group busy; retrying the commit');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * The position acknowledged receipts carry a partition to, from `pos`: a receipt whose [from, offset] holds the
 * position moves it past its message, so the result stops at the first message no receipt vouches for.
 */
export function contiguousEnd(pos: bigint, receipts: FunctionReceipt[]): bigint {
  for (const r of [...receipts].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    // Sorted by `from`: once one starts past the position, so do all that follow.
    if (r.from > pos) break;
    if (r.offset >= pos) pos = r.offset + 1n;
  }
  return pos;
}

/**
 * Ack in function mode. There is no session to settle and nothing is remembered between calls: each partition's
 * commit moves from the group's committed offset (the log start where nothing is committed) over the contiguous run
 * of messages this call acknowledges, and stops at the first one it does not (see contiguousEnd). So acknowledge a
 * batch by passing all of its receipts together, or acknowledge in order: receipts past a gap commit nothing and are
 * forgotten, and their messages come again in the group's next batch. The answer says what happened: `committed`
 * lists the offsets this call committed, and `acknowledged` counts the receipts whose messages are now below the
 * committed offset (a receipt that could not commit yet is not counted). Commits only move forward. Kafka accepts a
 * commit from outside the group's membership only while the group is empty, so a busy group is retried until
 * shortly before the deadline.
 */
export const ackOffsets = defineHandler({
  operation: 'ack',
  input: z.object({ receipts }),
  async run(deps: AckOffsetsDeps, input, ctx): Promise<{ acknowledged: number; committed: string[] }> {
    const wanted = new Map<string, { group: string; topic: string; byPartition: Map<number, FunctionReceipt[]> }>();
    for (const text of new Set(input.receipts)) {
      const r = parseReceipt(text)!;
      const key = `${r.group}\n${r.topic}`;
      const entry = wanted.get(key) ?? { group: r.group, topic: r.topic, byPartition: new Map<number, FunctionReceipt[]>() };
      wanted.set(key, entry);
      entry.byPartition.set(r.partition, [...(entry.byPartition.get(r.partition) ?? []), r]);
    }
    const committed: string[] = [];
    let acknowledged = 0;
    for (const { group, topic, byPartition } of wanted.values()) {
      const partitions = await deps.groups.offsets(group, topic);
      refuseUnknownMessages(topic, byPartition, partitions);
      const now = new Map(partitions.map((p) => [p.partition, BigInt(p.committed ?? p.start)]));
      const forward = new Map<number, string>();
      const settled = new Map<number, bigint>();
      for (const [partition, list] of byPartition) {
        const pos = now.get(partition)!;
        const end = contiguousEnd(pos, list);
        settled.set(partition, end);
        if (end > pos) forward.set(partition, String(end));
      }
      if (forward.size > 0) await commitWhenEmpty(deps.groups, group, topic, forward, ctx);
      for (const [partition, offset] of forward) committed.push(`${topic}/${partition}=${offset}`);
      for (const [partition, list] of byPartition) acknowledged += list.filter((r) => r.offset < settled.get(partition)!).length;
    }
    return { acknowledged, committed };
  },
});
