import type { ConsumedRecord, RecordToProduce } from '../kafka/records.ts';

/** Headers a dead-lettered copy carries besides the original's: why, after how many deliveries, and from where. */
export const deadLetterHeaders = { reason: 'prism-dlq-reason', attempts: 'prism-dlq-attempts', source: 'prism-dlq-source' };

/** The dead-letter copy of a record: same key, value and headers, plus where it came from and why. */
export function deadLetterRecord(topic: string, record: ConsumedRecord, attempts: number, reason: string): RecordToProduce {
  return {
    topic,
    ...(record.key === undefined ? {} : { key: record.key }),
    value: record.value,
    headers: [
      ...record.headers,
      [deadLetterHeaders.reason, Buffer.from(reason)],
      [deadLetterHeaders.attempts, Buffer.from(String(attempts))],
      [deadLetterHeaders.source, Buffer.from(`${record.topic}/${record.partition}/${record.offset}`)],
    ],
  };
}
