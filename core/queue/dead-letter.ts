import type { ProducerPort } from '../kafka/producer-port.ts';
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

/** One message to dead-letter: the record, how often it was delivered, and why. */
export interface DeadLetter {
  record: ConsumedRecord;
  attempts: number;
  reason: string;
}

/**
 * Writes dead-letter copies in one request and answers, per message, undefined (stored) or the error text. Records
 * sharing a produce request share its fate (one too large fails the whole batch), so each failure is retried alone.
 */
export async function writeDeadLetters(producer: ProducerPort, topic: string, letters: DeadLetter[]): Promise<(string | undefined)[]> {
  const write = (list: DeadLetter[]) => producer.produce(list.map((l) => deadLetterRecord(topic, l.record, l.attempts, l.reason)), {})
    .catch((err: unknown) => list.map(() => ({ ok: false as const, error: err as Error })));
  const outcomes = await write(letters);
  if (letters.length > 1) {
    for (let i = 0; i < letters.length; i++) if (outcomes[i]?.ok !== true) outcomes[i] = (await write([letters[i]!]))[0]!;
  }
  return letters.map((_, i) => {
    const o = outcomes[i];
    return o?.ok === true ? undefined : (o?.error.message ?? 'no answer');
  });
}
