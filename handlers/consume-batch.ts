import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { consume, consumeInput, type ConsumeDeps, type QueueMessage } from './consume.ts';
import { beforeDeadline } from './shared/deadline.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { batchContext, batchDefaults, batchLimit, collect, maxBatchBytes, stopTime } from './shared/batch.ts';
import { encodeReceipt } from './queue/function-receipts.ts';

/** Stop collecting this long before the deadline: leaving the group and closing the member's client take a moment. */
const leaveReserveMs = 1_000;

/** The fields ConsumeBatchRequest adds to ConsumeRequest. */
const bounds = z.object({
  max_messages: batchLimit('a number of messages from 1 to 10000 (0 for max_unacked, else 100)', 10_000),
  max_wait_ms: batchLimit('milliseconds from 1 to 900000 (0 for 1000)', 900_000),
});

/** The answer of consume_batch (ConsumeBatchResponse). */
export interface ConsumeBatch {
  messages: QueueMessage[];
  group: string;
  /** partition → offset the group commits once the whole batch is acknowledged (the last offset returned + 1). */
  next_offsets: Record<string, string>;
}

/**
 * Consume in function mode: joins the group (as a member of its own, unless the caller names one), waits at most
 * `max_wait_ms` after joining (and never past the deadline) for up to `max_messages`, then leaves the group before
 * answering, so its partitions move at once and a following ack finds the group empty. Nothing is committed here:
 * each message carries a function receipt, and the answer the offsets its acknowledgment commits. Until they are
 * acknowledged, the group's next consume_batch delivers the same messages again (at-least-once). The group's
 * committed offsets are read before joining: they are where the member starts, which the first receipt of each
 * partition records (see receipts.ts).
 */
export const consumeBatch = defineHandler({
  operation: 'consume',
  input: bounds.and(consumeInput),
  async run(deps: ConsumeDeps, input, ctx: CallContext): Promise<ConsumeBatch> {
    const max = input.max_messages || input.max_unacked || batchDefaults.maxItems;
    const group = input.group ?? deps.config.kafka.consumerGroup;
    // A member id per invocation: concurrent invocations must not fence each other out of the group.
    const subscriber = input.subscriber_id ?? `${deps.memberPrefix}-${randomUUID().slice(0, 8)}`;

    const batch = batchContext(ctx);
    const before = await beforeDeadline(startPositions(deps, group, input.topic), ctx, `reading the offsets of group ${group}`);
    const joining = consume(deps, { topic: input.topic, group, subscriber_id: subscriber, max_unacked: max }, batch.ctx);
    const stream = await beforeDeadline(joining, ctx, `joining group ${group}`).catch((err: unknown) => {
      // The join may still finish after we gave up: end that stream too, so the member leaves the group.
      void joining.then((late) => collect(late, { max: 0, until: 0, maxBytes: 0, sizeOf: () => 0 }, batch), () => undefined);
      throw err;
    });
    const messages = await collect(stream, {
      max,
      until: stopTime(ctx, input.max_wait_ms || batchDefaults.maxWaitMs, leaveReserveMs),
      maxBytes: maxBatchBytes,
      sizeOf: (m) => m.payload.length + m.key.length,
    }, batch);
    return toBatch(messages, group, before);
  },
});

/**
 * partition → where a member of the group starts reading: its committed offset, or the log start where nothing is
 * committed (the earliest a member could stand; ack counts from there too, so both sides agree).
 */
async function startPositions(deps: ConsumeDeps, group: string, topic: string): Promise<Map<number, bigint>> {
  const partitions = await deps.groups.offsets(group, topic);
  return new Map(partitions.map((p) => [p.partition, BigInt(p.committed ?? p.start)]));
}

/**
 * Swaps the session receipts (void once the member left) for function receipts; computes the offsets to commit.
 * Each receipt's `from` is where the member stood before its record: just past the previous record of its partition
 * in this answer, or for the first one, the start position read before joining. A partition that appeared after
 * that read gets from = its own offset, which vouches for nothing it did not deliver.
 */
function toBatch(delivered: QueueMessage[], group: string, start: Map<number, bigint>): ConsumeBatch {
  const next = new Map<number, bigint>();
  const seen = new Set<string>();
  const messages: QueueMessage[] = [];
  for (const m of delivered) {
    // A rebalance during the batch can deliver a record twice: return it once.
    const key = `${m.partition}:${m.offset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const offset = BigInt(m.offset);
    const stood = next.get(m.partition) ?? start.get(m.partition) ?? offset;
    // Never claim more than [stood, offset): a position past the record (out of order) vouches for the record alone.
    const from = stood <= offset ? stood : offset;
    messages.push({ ...m, receipt: encodeReceipt({ group, topic: m.topic, partition: m.partition, offset, from }) });
    if ((next.get(m.partition) ?? -1n) < offset + 1n) next.set(m.partition, offset + 1n);
  }
  return { messages, group, next_offsets: Object.fromEntries([...next].map(([p, o]) => [String(p), String(o)])) };
}
