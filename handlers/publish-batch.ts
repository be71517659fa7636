import { z } from 'zod';
import { beforeDeadline } from './shared/deadline.ts';
import { defineHandler } from './shared/define.ts';
import { checkPartitions } from './shared/partitions.ts';
import { codeOf, toResult, type PublishDeps, type PublishResult } from './publish.ts';
import { messageSchema, toRecord } from './queue/message-input.ts';

export const maxBatch = 10_000;

export interface BatchItemResult {
  /** Index of the message in the request. */
  index: number;
  success: boolean;
  result?: PublishResult;
  /** Our error code (e.g. UNAVAILABLE) and its message, when this message was not acknowledged. */
  error_code?: string;
  error?: string;
}

/**
 * Publishes many messages in one call; each gets its own answer, in request order. The batch is validated as a whole
 * (one bad message rejects the call before anything is written); broker failures are reported per message.
 */
export const publishBatch = defineHandler({
  operation: 'publish_batch',
  input: (deps: PublishDeps) => z.object({
    messages: z.array(messageSchema(deps.limits.maxMessageBytes), { error: 'expected a list of messages' })
      .min(1, { error: 'expected at least one message' })
      .max(maxBatch, { error: `expected at most ${maxBatch} messages` }),
  }),
  async run(deps: PublishDeps, input, ctx): Promise<{ results: BatchItemResult[] }> {
    const built = input.messages.map((m) => toRecord(m, deps.newId));
    const records = built.map((b) => b.record);
    await checkPartitions(deps.reader, records, (i) => `messages[${i}].partition`);
    ctx.trace?.send(records);
    const outcomes = await beforeDeadline(deps.producer.produce(records, { signal: ctx.signal }), ctx, 'publish batch');
    // Counted once per topic and code for the batch, not per record (a labelled inc costs more than the record).
    const produced = new Map<string, number>();
    const failed = new Map<string, { topic: string; code: string; n: number }>();
    const results = outcomes.map((outcome, index): BatchItemResult => {
      const { record, messageId } = built[index]!;
      if (outcome.ok) {
        produced.set(record.topic, (produced.get(record.topic) ?? 0) + 1);
        return { index, success: true, result: toResult(messageId, outcome.ack) };
      }
      const code = codeOf(outcome.error);
      const key = `${record.topic}\0${code}`;
      const tally = failed.get(key) ?? { topic: record.topic, code, n: 0 };
      tally.n++;
      failed.set(key, tally);
      return { index, success: false, error_code: code, error: outcome.error.message };
    });
    for (const [topic, n] of produced) deps.metrics.messagesProduced.inc({ topic }, n);
    for (const { topic, code, n } of failed.values()) deps.metrics.deliveryErrors.inc({ topic, code }, n);
    return { results };
  },
});
