import { z } from 'zod';
import type { NackOutcome } from '../core/queue/session.ts';
import { defineHandler } from './shared/define.ts';
import { bySession, receiptsSchema, type AckDeps } from './ack.ts';

/**
 * Negative acknowledgement: `requeue` delivers the messages again (attempt + 1, after the retry backoff) until the
 * attempt limit, then dead-letters them; without `requeue` they go to the dead-letter topic now, even one already
 * waiting for its redelivery. A dead-lettered message is acknowledged once the dead-letter topic acknowledged its
 * copy. Each receipt's outcome is reported: requeued (a receipt already waiting for redelivery, nacked again with
 * `requeue`, counts once), dead_lettered, stale (its partition moved to another member, which redelivers it), unknown
 * (already settled). A failed dead-letter write fails the call, naming the receipt.
 */
export const nack = defineHandler({
  operation: 'nack',
  input: z.object({
    receipts: receiptsSchema,
    requeue: z.boolean({ error: 'expected true or false' }).default(false),
    reason: z.string({ error: 'expected a reason text' }).max(1_000, { error: 'expected a reason of at most 1000 characters' }).default(''),
  }),
  async run(deps: AckDeps, input): Promise<{ requeued: number; dead_lettered: number; results: { receipt: string; outcome: NackOutcome; error: string }[] }> {
    let requeued = 0;
    let deadLettered = 0;
    const results: { receipt: string; outcome: NackOutcome; error: string }[] = [];
    for (const [session, receipts] of bySession(deps, input.receipts)) {
      const r = await session.nack(receipts, input.requeue, input.reason || 'rejected by the consumer');
      requeued += r.requeued;
      deadLettered += r.deadLettered;
      results.push(...r.results);
    }
    return { requeued, dead_lettered: deadLettered, results };
  },
});
