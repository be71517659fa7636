import { z } from 'zod';
import { invalidArgument, isPluginError, PluginError, type FieldViolation } from '../core/errors.ts';
import { classifyKafkaError } from '../core/kafka/classify.ts';
import type { ProducerPort } from '../core/kafka/producer-port.ts';
import type { ReaderPort } from '../core/kafka/reader-port.ts';
import { recordSize, type ProduceOutcome, type RecordToProduce } from '../core/kafka/records.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import { beforeDeadline } from './shared/deadline.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { checkPartitions } from './shared/partitions.ts';
import { bytes, optionalTimeMs, partition, tags, topicName } from './stream/schemas.ts';

const appendRecord = z.object({
  payload: bytes('payload'),
  key: bytes('key').optional().transform((k) => (k === undefined || k.length === 0 ? undefined : k)),
  tags: tags('tags'),
  event_time: optionalTimeMs('event_time'),
  partition: partition.optional().nullable().transform((p) => p ?? undefined),
});
type AppendRecord = z.output<typeof appendRecord>;

export const appendInput = z.object({ topic: topicName, ...appendRecord.shape });

/** Most records in one AppendBatch: bounds one call's memory and its produce request. */
export const maxBatchRecords = 10_000;

export const appendBatchInput = z.object({
  topic: topicName,
  records: z
    .array(appendRecord, { error: 'expected a list of records' })
    .min(1, { error: 'expected at least one record' })
    .max(maxBatchRecords, { error: `expected at most ${maxBatchRecords} records` }),
});

export interface AppendDeps {
  producer: ProducerPort;
  metrics: Pick<Metrics, 'messagesProduced' | 'deliveryErrors'>;
  limits: { maxMessageBytes: number };
  /** Clock for events without an event time. */
  now?: () => number;
  /** Checks explicit partitions against the topic before anything is sent (optional: tests may leave it out). */
  reader?: Pick<ReaderPort, 'partitionCount'>;
}

export interface AppendResponse {
  topic: string;
  partition: number;
  /** "-1" when acks=0: the broker does not say. */
  offset: string;
  timestamp: number;
}

export interface AppendResult {
  success: boolean;
  partition: number;
  offset: string;
  timestamp: number;
  error: string;
  error_code: string;
  retryable: boolean;
}

/** Event → Kafka record: the event time becomes the record timestamp, tags become headers. */
function toRecord(topic: string, r: AppendRecord, now: number): RecordToProduce {
  return {
    topic,
    value: r.payload,
    headers: Object.entries(r.tags).map(([name, value]) => [name, Buffer.from(value)]),
    timestamp: r.event_time ?? now,
    ...(r.key === undefined ? {} : { key: r.key }),
    ...(r.partition === undefined ? {} : { partition: r.partition }),
  };
}

/** Refuses records the broker would refuse anyway, naming each one. */
function checkSizes(records: RecordToProduce[], max: number, field: (i: number) => string): void {
  const violations: FieldViolation[] = [];
  records.forEach((r, i) => {
    const size = recordSize(r);
    if (size > max) violations.push({ field: field(i), expected: `a record of at most ${max} bytes (payload, key and tags)`, got: `${size} bytes` });
  });
  if (violations.length > 0) throw invalidArgument(violations);
}

const failure = (error: Error): PluginError => (isPluginError(error) ? error : classifyKafkaError(error, 'append'));

/** Counts each record's outcome once, as publish does. */
function count(deps: AppendDeps, topic: string, outcomes: ProduceOutcome[]): void {
  for (const o of outcomes) {
    if (o.ok) deps.metrics.messagesProduced.inc({ topic });
    else deps.metrics.deliveryErrors.inc({ topic, code: failure(o.error).code });
  }
}

function acked(outcome: ProduceOutcome, record: RecordToProduce) {
  if (!outcome.ok) throw failure(outcome.error);
  const { ack } = outcome;
  // With CreateTime the broker answers -1 and the record keeps our timestamp; with LogAppendTime it answers its own.
  return { partition: ack.partition, offset: ack.offset ?? '-1', timestamp: ack.timestamp > 0 ? ack.timestamp : record.timestamp! };
}

/** Appends one event and answers after the broker acknowledged it. */
export const append = defineHandler({
  operation: 'append',
  input: appendInput,
  async run(deps: AppendDeps, input, ctx: CallContext): Promise<AppendResponse> {
    const record = toRecord(input.topic, input, (deps.now ?? Date.now)());
    checkSizes([record], deps.limits.maxMessageBytes, () => 'payload');
    await checkPartitions(deps.reader, [record], () => 'partition');
    ctx.trace?.send([record]);
    const outcomes = await beforeDeadline(deps.producer.produce([record], { signal: ctx.signal }), ctx, `append to ${input.topic}`);
    count(deps, input.topic, outcomes);
    const [outcome] = outcomes;
    if (outcome === undefined) throw new PluginError('INTERNAL', 'the producer returned no outcome');
    return { topic: input.topic, ...acked(outcome, record) };
  },
});

/**
 * Appends events to one stream in one produce call. Each event gets its own result; the call fails as a whole only
 * when no event was appended (then with the first event's error).
 */
export const appendBatch = defineHandler({
  operation: 'append_batch',
  input: appendBatchInput,
  async run(deps: AppendDeps, input, ctx: CallContext): Promise<{ results: AppendResult[]; appended: number; failed: number }> {
    const now = (deps.now ?? Date.now)();
    const records = input.records.map((r) => toRecord(input.topic, r, now));
    checkSizes(records, deps.limits.maxMessageBytes, (i) => `records[${i}].payload`);
    await checkPartitions(deps.reader, records, (i) => `records[${i}].partition`);
    ctx.trace?.send(records);
    const outcomes = await beforeDeadline(deps.producer.produce(records, { signal: ctx.signal }), ctx, `append to ${input.topic}`);
    count(deps, input.topic, outcomes);
    const results = outcomes.map((outcome, i): AppendResult => {
      if (outcome.ok) return { success: true, ...acked(outcome, records[i]!), error: '', error_code: '', retryable: false };
      const error = failure(outcome.error);
      return { success: false, partition: -1, offset: '-1', timestamp: 0, error: error.expose ? error.message : 'internal error', error_code: error.code, retryable: error.retryable };
    });
    const appended = results.filter((r) => r.success).length;
    if (appended === 0) throw failure((outcomes[0] as { error: Error }).error);
    return { results, appended, failed: results.length - appended };
  },
});
