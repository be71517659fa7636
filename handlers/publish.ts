import { PluginError, isPluginError } from '../core/errors.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import type { ProducerPort } from '../core/kafka/producer-port.ts';
import type { ReaderPort } from '../core/kafka/reader-port.ts';
import type { ProduceAck } from '../core/kafka/records.ts';
import { beforeDeadline } from './shared/deadline.ts';
import { defineHandler } from './shared/define.ts';
import { checkPartitions } from './shared/partitions.ts';
import { messageSchema, toRecord } from './queue/message-input.ts';

export interface PublishDeps {
  producer: ProducerPort;
  metrics: Pick<Metrics, 'messagesProduced' | 'deliveryErrors'>;
  limits: { maxMessageBytes: number };
  newId?: () => string;
  /** Checks an explicit partition against the topic before anything is sent (optional: tests may leave it out). */
  reader?: Pick<ReaderPort, 'partitionCount'>;
}

export interface PublishResult {
  message_id: string;
  topic: string;
  partition: number;
  /** Decimal offset; empty when acks=0 (the broker does not say). */
  offset: string;
  timestamp: number;
}

export const toResult = (messageId: string, ack: ProduceAck): PublishResult => ({
  message_id: messageId, topic: ack.topic, partition: ack.partition, offset: ack.offset ?? '', timestamp: ack.timestamp,
});

/** Publishes one message and answers only after the broker acknowledged it (per the configured acks). */
export const publish = defineHandler({
  operation: 'publish',
  input: (deps: PublishDeps) => messageSchema(deps.limits.maxMessageBytes),
  async run(deps: PublishDeps, input, ctx): Promise<PublishResult> {
    const { record, messageId } = toRecord(input, deps.newId);
    await checkPartitions(deps.reader, [record], () => 'partition');
    ctx.trace?.send([record]);
    const [outcome] = await beforeDeadline(deps.producer.produce([record], { signal: ctx.signal }), ctx, `publish to ${record.topic}`);
    if (outcome === undefined) throw new PluginError('INTERNAL', 'the producer returned no outcome');
    if (!outcome.ok) {
      deps.metrics.deliveryErrors.inc({ topic: record.topic, code: codeOf(outcome.error) });
      throw outcome.error;
    }
    deps.metrics.messagesProduced.inc({ topic: record.topic });
    return toResult(messageId, outcome.ack);
  },
});

export const codeOf = (error: Error): string => (isPluginError(error) ? error.code : 'INTERNAL');
