import { z } from 'zod';
import { invalidArgument } from '../../core/errors.ts';
import type { ConsumedRecord } from '../../core/kafka/records.ts';
import { violationsOf } from '../../handlers/shared/define.ts';

/**
 * The record-batch event AWS Lambda delivers from an Amazon MSK or self-managed Kafka event source mapping:
 * `records` maps "topic-partition" to that partition's records in offset order; key and value are base64; each
 * header is a one-entry object of name → byte values. Shape as in the Lambda developer guide ("Using Lambda with
 * Amazon MSK" / "self-managed Apache Kafka", example events).
 */
const byteValue = z.number().int().min(-128).max(255);
const kafkaRecord = z.object({
  topic: z.string({ error: 'expected a topic name' }).min(1, { error: 'expected a topic name' }),
  partition: z.number({ error: 'expected a partition number' }).int({ error: 'expected a partition number' }).min(0, { error: 'expected a partition number' }),
  offset: z.union([z.number().int().min(0), z.string().regex(/^\d{1,19}$/)], { error: 'expected an offset' }),
  timestamp: z.number({ error: 'expected a timestamp in ms' }).optional(),
  timestampType: z.string().optional(),
  key: z.string({ error: 'expected a base64 key' }).nullable().optional(),
  value: z.string({ error: 'expected a base64 value' }).nullable().optional(),
  headers: z.array(z.record(z.string(), z.array(byteValue)), { error: 'expected headers as [{name: [bytes]}]' }).default([]),
});

/** The event as a whole: the source, and the records by "topic-partition". */
export const kafkaEventSchema = z.object({
  eventSource: z.enum(['aws:kafka', 'SelfManagedKafka'], { error: 'expected "aws:kafka" or "SelfManagedKafka"' }),
  records: z.record(z.string(), z.array(kafkaRecord, { error: 'expected a list of records' }), { error: 'expected records by "topic-partition"' }),
});

/** A validated Kafka event. */
export type KafkaEvent = z.output<typeof kafkaEventSchema>;
type EventRecord = z.output<typeof kafkaRecord>;

/** A record of a Kafka event, in the plugin's own record type (Buffers, offsets as decimal strings). */
export interface KafkaEventRecord extends ConsumedRecord {
  /** The event's "topic-partition" key this record came under. */
  topicPartition: string;
  /** `CREATE_TIME` or `LOG_APPEND_TIME`, as the event says. */
  timestampType?: string;
}

/** Whether an event is a Kafka record batch (MSK or self-managed). */
export function isKafkaEvent(event: unknown): boolean {
  const source = (event as { eventSource?: unknown } | null)?.eventSource;
  return source === 'aws:kafka' || source === 'SelfManagedKafka';
}

/** Validates a Kafka event; INVALID_ARGUMENT naming every bad field (the whole batch is then retried by Lambda). */
export function parseKafkaEvent(event: unknown): KafkaEvent {
  const parsed = kafkaEventSchema.safeParse(event);
  if (!parsed.success) throw invalidArgument(violationsOf(parsed.error, event), parsed.error);
  return parsed.data;
}

/** One event record → our record type. Header bytes arrive as Java's signed bytes or as 0–255: both are read. */
export function toRecord(topicPartition: string, r: EventRecord): KafkaEventRecord {
  return {
    topicPartition,
    topic: r.topic,
    partition: r.partition,
    offset: String(r.offset),
    timestamp: r.timestamp ?? 0,
    key: r.key === null || r.key === undefined || r.key === '' ? undefined : Buffer.from(r.key, 'base64'),
    value: r.value === null || r.value === undefined ? Buffer.alloc(0) : Buffer.from(r.value, 'base64'),
    headers: r.headers.flatMap((h) => Object.entries(h).map(([name, bytes]) => [name, Buffer.from(bytes.map((b) => b & 0xff))] as [string, Buffer])),
    ...(r.timestampType === undefined ? {} : { timestampType: r.timestampType }),
  };
}

/**
 * One entry of the partial batch response for Kafka event sources, as documented in "Configuring error handling
 * controls for Kafka event sources" (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html,
 * section PartialBatchResponse): `{ "batchItemFailures": [ { "itemIdentifier": { "topic-partition":
 * "<topic>-<partition>", "offset": <number> } } ] }`. An identifier not present in the event fails the whole batch;
 * an empty list (or null) means the whole batch succeeded. Requires ReportBatchItemFailures on the mapping.
 */
export interface KafkaBatchItemFailure {
  itemIdentifier: { 'topic-partition': string; offset: number };
}

/** What a Kafka event handler answers: the records to retry (none: the whole batch succeeded). */
export interface KafkaBatchResponse {
  batchItemFailures: KafkaBatchItemFailure[];
}

/** The failure entry of a record, with the "topic-partition" and offset exactly as the event gave them. */
export function failureOf(record: KafkaEventRecord): KafkaBatchItemFailure {
  return { itemIdentifier: { 'topic-partition': record.topicPartition, offset: Number(record.offset) } };
}
