import { z } from 'zod';
import { topicName } from '../core/config/schema.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { closeSession, openSession, toQueueMessage, type ConsumeDeps } from './consume.ts';
import { withCleanup } from './stream/with-cleanup.ts';

const member = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, { error: 'expected 1–200 characters from a-z A-Z 0-9 . _ -' });

export const subscribeInput = z.object({
  topic: topicName,
  subscriber_id: member,
  options: z.object({
    group: member.optional(),
    start: z.enum(['earliest', 'latest'], { error: 'expected "earliest" or "latest"' }).optional(),
  }, { error: 'expected a map of options' }).strict().default({}),
});

export interface PubSubMessage {
  topic: string;
  payload: Buffer;
  metadata: Record<string, string>;
  message_id: string;
  timestamp: number;
}

/**
 * Upstream's Subscribe, which has no ack call. A subscriber is a consumer-group member (group: options.group, else
 * its subscriber id, so each subscriber sees every message). What it promises, precisely: a message is committed
 * once it has been handed to the connection — the adapter asks for the next message only after grpc-js accepted the
 * write (and waited for `drain` when its buffer was full), and that request commits it. Nothing tells the server what
 * the client read, so a client that vanishes loses the messages handed over but never read: up to what the HTTP/2
 * flow-control window, grpc-js's buffer and the socket buffers hold (hundreds of small messages), they are not
 * delivered again to that subscriber id. A stream that ends cleanly (cancel, Unsubscribe) delivers nothing twice:
 * re-subscribing resumes at the committed offset, right after the last message handed over. A message comes again
 * only if its commit failed or a rebalance voided it first. This is at-most-once for what is in flight, not
 * at-least-once: for that, use the queue's Consume and Ack.
 */
export const subscribe = defineHandler({
  operation: 'subscribe',
  input: subscribeInput,
  async run(deps: ConsumeDeps, input, ctx: CallContext): Promise<AsyncIterable<PubSubMessage>> {
    const session = await openSession(deps, {
      topic: input.topic, group: input.options.group ?? input.subscriber_id, subscriber_id: input.subscriber_id, max_unacked: 0,
      ...(input.options.start === undefined ? {} : { start: input.options.start }),
    }, ctx);
    const messages = async function* () {
      for await (const d of session.deliveries(ctx.signal)) {
        deps.metrics.messagesConsumed.inc({ topic: input.topic });
        const m = toQueueMessage(d, session.options.id);
        yield { topic: m.topic, payload: m.payload, metadata: m.metadata, message_id: m.message_id, timestamp: m.timestamp };
        // Resumed: the stream asks for the next message, so the transport accepted this one. Committing now, not
        // when the next message arrives, means a stream that ends cleanly leaves nothing behind to deliver twice.
        await session.ack([d.receipt]);
      }
    };
    return withCleanup(messages(), () => closeSession(deps, session));
  },
});

/** Ends the subscriber's streams (they complete normally) and leaves the group. */
export const unsubscribe = defineHandler({
  operation: 'unsubscribe',
  input: z.object({ topic: topicName, subscriber_id: member }),
  async run(deps: ConsumeDeps, input): Promise<{ success: boolean; error: string }> {
    const sessions = deps.sessions.bySubscriber(input.subscriber_id).filter((s) => s.options.topic === input.topic);
    for (const s of sessions) {
      deps.sessions.remove(s);
      await s.close(true);
    }
    return { success: true, error: sessions.length === 0 ? `no subscription of ${input.subscriber_id} to ${input.topic}` : '' };
  },
});
