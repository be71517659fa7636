import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { topicName } from '../core/config/schema.ts';
import type { Config } from '../core/config/schema.ts';
import type { GroupPort } from '../core/kafka/group-port.ts';
import type { OpenSubscriptions } from '../core/lag/subscriptions.ts';
import type { ProducerPort } from '../core/kafka/producer-port.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import type { SessionRegistry } from '../core/queue/registry.ts';
import { QueueSession, type Delivery } from '../core/queue/session.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { withCleanup } from './stream/with-cleanup.ts';
import { messageIdHeader } from './queue/message-input.ts';

export interface ConsumeDeps {
  config: Pick<Config, 'kafka' | 'consumer'>;
  groups: GroupPort;
  /** Writes dead letters: acks=all whatever publish uses, since the original is committed once it is written. */
  deadLetters: ProducerPort;
  sessions: SessionRegistry;
  metrics: Pick<Metrics, 'messagesConsumed' | 'queueEvents'>;
  /** Prefix of generated subscriber ids (host and process), set by the composition root. */
  memberPrefix: string;
  /** Open subscriptions as the lag and unacked metrics see them (optional: unit tests need none). */
  subscriptions?: Pick<OpenSubscriptions, 'add'>;
}

const memberId = z.string().regex(/^[a-zA-Z0-9._-]{1,200}$/, { error: 'expected 1–200 characters from a-z A-Z 0-9 . _ -' });

export const consumeInput = z.object({
  topic: topicName,
  group: z.preprocess((v) => (v === '' ? undefined : v), memberId.optional()),
  subscriber_id: z.preprocess((v) => (v === '' ? undefined : v), memberId.optional()),
  max_unacked: z.number({ error: 'expected a number of messages' }).int({ error: 'expected a whole number' }).min(0, { error: 'expected 0 (default) to 10000' }).max(10_000, { error: 'expected 0 (default) to 10000' }).default(0),
});

export interface QueueMessage {
  message_id: string;
  topic: string;
  partition: number;
  offset: string;
  payload: Buffer;
  metadata: Record<string, string>;
  key: Buffer;
  timestamp: number;
  attempt: number;
  receipt: string;
  subscription_id: string;
}

/** Turns a delivery into the wire message: headers back to metadata, the message id from its header. */
export function toQueueMessage(d: Delivery, subscriptionId: string): QueueMessage {
  const metadata: Record<string, string> = {};
  let messageId = '';
  for (const [name, value] of d.record.headers) {
    if (name === messageIdHeader) messageId = value.toString();
    else metadata[name] = value.toString();
  }
  const { record } = d;
  return {
    message_id: messageId || `${record.topic}/${record.partition}/${record.offset}`,
    topic: record.topic, partition: record.partition, offset: record.offset, payload: record.value, metadata,
    key: record.key ?? Buffer.alloc(0), timestamp: record.timestamp, attempt: d.attempt, receipt: d.receipt, subscription_id: subscriptionId,
  };
}

/**
 * Joins the consumer group (static member: the subscriber id, or one derived from this host) and returns the live
 * stream of messages, at most `max_unacked` outstanding. Ending the stream leaves the group so its partitions move
 * to the other members at once; unacknowledged messages are redelivered to them.
 */
export const consume = defineHandler({
  operation: 'consume',
  input: consumeInput,
  async run(deps: ConsumeDeps, input, ctx: CallContext): Promise<AsyncIterable<QueueMessage>> {
    const session = await openSession(deps, input, ctx);
    ctx.trace?.reads(input.topic, session.options.group);
    const messages = async function* () {
      for await (const d of session.deliveries(ctx.signal)) {
        deps.metrics.messagesConsumed.inc({ topic: input.topic });
        // Its span lasts until the transport took the message (the stream asks for the next one).
        const span = ctx.trace?.receive(d.record);
        try {
          yield toQueueMessage(d, session.options.id);
        } finally {
          span?.end();
        }
      }
    };
    // The membership exists already: release it however the stream ends, even if the caller never reads.
    return withCleanup(messages(), () => closeSession(deps, session));
  },
});

/** Unregisters and closes a session; leaves the group unless the process is draining (static membership). */
export async function closeSession(deps: ConsumeDeps, session: QueueSession): Promise<void> {
  deps.sessions.remove(session);
  await session.close(deps.sessions.leaveOnClose);
}

/** Creates, registers and returns a session; a previous stream under the same subscriber id is ended first. */
export async function openSession(deps: ConsumeDeps, input: z.output<typeof consumeInput> & { start?: 'earliest' | 'latest' }, ctx: CallContext): Promise<QueueSession> {
  const { consumer, kafka } = deps.config;
  const group = input.group ?? kafka.consumerGroup;
  const subscriber = input.subscriber_id ?? consumer.subscriberId ?? `${deps.memberPrefix}-${randomUUID().slice(0, 8)}`;
  for (const old of deps.sessions.bySubscriber(subscriber, group)) {
    deps.sessions.remove(old);
    await old.close(false);
  }
  const sub = await deps.groups.subscribe({ topic: input.topic, group, instanceId: subscriber, autoOffsetReset: input.start ?? kafka.autoOffsetReset });
  const events = deps.metrics.queueEvents;
  const session = new QueueSession({
    id: `${subscriber}~${randomUUID().slice(0, 8)}`,
    topic: input.topic,
    group,
    maxUnacked: input.max_unacked || consumer.maxUnacked,
    prefetch: consumer.prefetch,
    maxAttempts: consumer.maxRetries + 1,
    deadLetterTopic: consumer.deadLetterTopic ?? `${input.topic}.dlq`,
    backoff: { initialMs: consumer.initialBackoffMs, maxMs: consumer.maxBackoffMs, factor: consumer.backoffFactor },
    events: {
      delivered: (again) => again && events.redelivered.inc({ topic: input.topic }),
      deadLettered: () => events.deadLettered.inc({ topic: input.topic }),
      commitFailed: (err) => {
        events.commitFailures.inc({ topic: input.topic });
        ctx.log.warn({ err }, 'offset commit failed; the messages will be redelivered');
      },
      fetchFailed: (err) => ctx.log.warn({ err }, 'fetch failed; retrying'),
      rebalanced: (partitions) => {
        events.rebalances.inc({ topic: input.topic });
        ctx.log.info({ group, topic: input.topic, partitions }, 'partitions assigned');
      },
    },
  }, sub, deps.deadLetters);
  deps.sessions.add(session);
  deps.subscriptions?.add(session);
  return session;
}
