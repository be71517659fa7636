import { z } from 'zod';
import { invalidArgument, isPluginError, PluginError } from '../../core/errors.ts';
import type { GroupPort, PartitionOffsets } from '../../core/kafka/group-port.ts';
import { defineHandler, type CallContext } from '../../handlers/define.ts';
import { parseReceipt } from './receipts.ts';

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
function refuseUnknownMessages(topic: string, next: Map<number, bigint>, partitions: PartitionOffsets[]): void {
  const ends = new Map(partitions.map((p) => [p.partition, BigInt(p.end)]));
  for (const [partition, after] of next) {
    const end = ends.get(partition);
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
 * Ack in function mode. There is no session to settle: acknowledging a receipt commits, for its group, the offset
 * after its message — Kafka's cumulative commit, so it acknowledges every earlier message of that partition too.
 * Acknowledge a batch by passing all of its receipts (or the last one of each partition). Commits only move forward:
 * a receipt older than the group's committed offset changes nothing. Kafka accepts a commit from outside the
 * group's membership only while the group is empty, so a busy group is retried until shortly before the deadline.
 */
export const ackOffsets = defineHandler({
  operation: 'ack',
  input: z.object({ receipts }),
  async run(deps: AckOffsetsDeps, input, ctx): Promise<{ acknowledged: number; committed: string[] }> {
    const wanted = new Map<string, { group: string; topic: string; next: Map<number, bigint> }>();
    for (const text of new Set(input.receipts)) {
      const r = parseReceipt(text)!;
      const key = `${r.group}\n${r.topic}`;
      const entry = wanted.get(key) ?? { group: r.group, topic: r.topic, next: new Map<number, bigint>() };
      wanted.set(key, entry);
      if ((entry.next.get(r.partition) ?? -1n) < r.offset + 1n) entry.next.set(r.partition, r.offset + 1n);
    }
    const committed: string[] = [];
    for (const { group, topic, next } of wanted.values()) {
      const partitions = await deps.groups.offsets(group, topic);
      refuseUnknownMessages(topic, next, partitions);
      const current = new Map(partitions.map((p) => [p.partition, p.committed]));
      const forward = new Map<number, string>();
      for (const [partition, offset] of next) {
        const now = current.get(partition);
        if (now === undefined || BigInt(now) < offset) forward.set(partition, String(offset));
      }
      if (forward.size === 0) continue;
      await commitWhenEmpty(deps.groups, group, topic, forward, ctx);
      for (const [partition, offset] of forward) committed.push(`${topic}/${partition}=${offset}`);
    }
    return { acknowledged: new Set(input.receipts).size, committed };
  },
});
