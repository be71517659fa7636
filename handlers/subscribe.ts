import { createHash } from 'node:crypto';
import { z } from 'zod';
import { topicName } from '../core/config/schema.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { closeSession, openSession, toQueueMessage, type ConsumeDeps } from './consume.ts';
import { withCleanup } from './stream/with-cleanup.ts';

const member = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, { error: 'expected 1–200 characters from a-z A-Z 0-9 . _ -' });

const knownOptions = {
  group: member.optional(),
  start: z.enum(['earliest', 'latest'], { error: 'expected "earliest" or "latest"' }).optional(),
};
const optionNames = Object.keys(knownOptions);

/**
 * Subscribe's options, a map<string, string> on the wire: an unknown name is refused as its own field
 * (`options.groupp`), naming the options there are, rather than by the strict object's one text for the whole map.
 */
const subscribeOptions = z
  .looseObject(knownOptions, { error: 'expected a map of options' })
  .superRefine((options, ctx) => {
    for (const name of Object.keys(options)) {
      if (!optionNames.includes(name)) ctx.addIssue({ code: 'custom', path: [name], message: `expected a known option: ${optionNames.join(' or ')}` });
    }
  })
  .transform(({ group, start }) => ({ ...(group === undefined ? {} : { group }), ...(start === undefined ? {} : { start }) }))
  .default({});

export const subscribeInput = z.object({
  topic: topicName,
  subscriber_id: member,
  options: subscribeOptions,
});

export interface PubSubMessage {
  topic: string;
  payload: Buffer;
  metadata: Record<string, string>;
  message_id: string;
  timestamp: number;
}

/**
 * The static member id (group.instance.id) of a subscriber's stream of one topic: the subscriber id, a dot and the
 * first 12 hex digits of the topic's SHA-256. Kafka lets one member hold an instance id in a group, and a subscriber
 * may subscribe to several topics under one group (its own, by default); the fixed-length digest keeps ids of
 * different (subscriber, topic) pairs apart, within [a-zA-Z0-9._-] and 213 characters. It is also what the streams'
 * session ids start with, so a new stream replaces an earlier one of the same subscriber, topic and group only.
 */
export function pubsubMemberId(subscriberId: string, topic: string): string {
  return `${subscriberId}.${createHash('sha256').update(topic).digest('hex').slice(0, 12)}`;
}

/**
 * Upstream's Subscribe, which has no ack call. A subscriber is a consumer-group member (group: options.group, else
 * its subscriber id, so each subscriber sees every message), one per topic (see pubsubMemberId): subscribing again
 * to a topic ends the subscriber's earlier stream of that topic in that group, and only that one. What it promises,
 * precisely: a message is committed once it has been handed to the connection — the adapter asks for the next
 * message only after grpc-js accepted the write (and waited for `drain` when its buffer was full), and that request
 * commits it. Nothing tells the server what the client read, so a client that vanishes loses the messages handed
 * over but never read: up to what the HTTP/2 flow-control window, grpc-js's buffer and the socket buffers hold
 * (hundreds of small messages), they are not delivered again to that subscriber id. A stream that ends cleanly
 * (cancel, Unsubscribe) delivers nothing twice: re-subscribing resumes at the committed offset, right after the last
 * message handed over. A message comes again only if its commit failed (the stream ends) or a rebalance moved its
 * partition first (the stream goes on; the partition's new owner delivers it). This is at-most-once for what is in
 * flight, not at-least-once: for that, use the queue's Consume and Ack.
 */
export const subscribe = defineHandler({
  operation: 'subscribe',
  input: subscribeInput,
  async run(deps: ConsumeDeps, input, ctx: CallContext): Promise<AsyncIterable<PubSubMessage>> {
    const group = input.options.group ?? input.subscriber_id;
    const session = await openSession(deps, {
      topic: input.topic, group, subscriber_id: pubsubMemberId(input.subscriber_id, input.topic), max_unacked: 0,
      ...(input.options.start === undefined ? {} : { start: input.options.start }),
    }, ctx);
    ctx.trace?.reads(input.topic, group);
    const messages = async function* () {
      for await (const d of session.deliveries(ctx.signal)) {
        deps.metrics.messagesConsumed.inc({ topic: input.topic });
        const m = toQueueMessage(d, session.options.id);
        const span = ctx.trace?.receive(d.record);
        try {
          yield { topic: m.topic, payload: m.payload, metadata: m.metadata, message_id: m.message_id, timestamp: m.timestamp };
        } finally {
          span?.end();
        }
        // Resumed: the stream asks for the next message, so the transport accepted this one. Committing now, not
        // when the next message arrives, means a stream that ends cleanly leaves nothing behind to deliver twice.
        try {
          await session.ack([d.receipt]);
        } catch (err) {
          // A subscriber has no receipt to act on: a partition that moved before or during the commit does not end
          // the stream (its new owner delivers the message); any other failure does.
          if (!session.isStale(d.receipt)) throw err;
          const { partition, offset } = d.record;
          ctx.log.info({ group, topic: input.topic, partition, offset }, 'partition reassigned before the message handed over was committed; its new owner delivers it again');
        }
      }
    };
    return withCleanup(messages(), () => closeSession(deps, session));
  },
});

/** Ends the subscriber's streams of the topic, in every group (they complete normally), and leaves the groups. */
export const unsubscribe = defineHandler({
  operation: 'unsubscribe',
  input: z.object({ topic: topicName, subscriber_id: member }),
  async run(deps: ConsumeDeps, input): Promise<{ success: boolean; error: string }> {
    const sessions = deps.sessions.bySubscriber(pubsubMemberId(input.subscriber_id, input.topic)).filter((s) => s.options.topic === input.topic);
    for (const s of sessions) {
      deps.sessions.remove(s);
      await s.close(true);
    }
    return { success: true, error: sessions.length === 0 ? `no subscription of ${input.subscriber_id} to ${input.topic}` : '' };
  },
});
