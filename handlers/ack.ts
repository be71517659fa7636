import { z } from 'zod';
import { PluginError } from '../core/errors.ts';
import type { SessionRegistry } from '../core/queue/registry.ts';
import { parseReceipt } from '../core/queue/receipt.ts';
import type { QueueSession } from '../core/queue/session.ts';
import { defineHandler } from './shared/define.ts';

export interface AckDeps {
  sessions: SessionRegistry;
}

export const receiptsSchema = z
  .array(z.string().refine((r) => parseReceipt(r) !== undefined, { error: 'expected a receipt from a delivered message' }), { error: 'expected a list of receipts' })
  .min(1, { error: 'expected at least one receipt' })
  .max(10_000, { error: 'expected at most 10000 receipts' });

/** Groups receipts by the session that delivered them; a session that has ended is reported, not guessed at. */
export function bySession(deps: AckDeps, receipts: string[]): Map<QueueSession, string[]> {
  const out = new Map<QueueSession, string[]>();
  for (const receipt of receipts) {
    const id = parseReceipt(receipt)!.sessionId;
    const session = deps.sessions.get(id);
    if (session === undefined) {
      throw new PluginError('FAILED_PRECONDITION', `receipts: the subscription ${id} has ended; its unacknowledged messages are redelivered to the group`);
    }
    out.set(session, [...(out.get(session) ?? []), receipt]);
  }
  return out;
}

/** Acknowledges messages: commits each partition up to its lowest unacknowledged offset. */
export const ack = defineHandler({
  operation: 'ack',
  input: z.object({ receipts: receiptsSchema }),
  async run(deps: AckDeps, input): Promise<{ acknowledged: number; committed: string[] }> {
    let acknowledged = 0;
    const committed: string[] = [];
    for (const [session, receipts] of bySession(deps, input.receipts)) {
      const r = await session.ack(receipts);
      acknowledged += r.acknowledged;
      committed.push(...r.committed);
    }
    return { acknowledged, committed };
  },
});
