import { PluginError } from '../../core/errors.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { ProduceOutcome, RecordToProduce } from '../../core/kafka/records.ts';
import { FakeLog } from './fake-reader.ts';

/**
 * In-memory producer port writing into a FakeLog (so a FakeReader reads what it wrote). Partition: the record's,
 * else a hash of the key, else round robin. `fail` decides a per-record failure; `calls` records every produce call.
 */
export class FakeProducer implements ProducerPort {
  calls: RecordToProduce[][] = [];
  fail: (record: RecordToProduce, index: number) => Error | undefined = () => undefined;
  #next = 0;
  #closed = false;
  constructor(readonly log: FakeLog = new FakeLog(), private readonly now: () => number = Date.now) {}

  produce(records: RecordToProduce[]): Promise<ProduceOutcome[]> {
    if (this.#closed) return Promise.reject(new PluginError('UNAVAILABLE', 'the producer is closing'));
    this.calls.push(records);
    return Promise.resolve(records.map((record, i): ProduceOutcome => {
      const error = this.fail(record, i);
      if (error !== undefined) return { ok: false, error };
      const count = this.log.topics.get(record.topic)?.partitions.length ?? 0;
      if (count === 0) return { ok: false, error: new PluginError('NOT_FOUND', `topic ${record.topic} does not exist`) };
      const partition = record.partition ?? (record.key === undefined ? this.#next++ % count : [...record.key].reduce((h, b) => (h * 31 + b) >>> 0, 7) % count);
      const timestamp = record.timestamp ?? this.now();
      const stored = this.log.append(record.topic, partition, { value: record.value, key: record.key, headers: record.headers, timestamp });
      return { ok: true, ack: { topic: record.topic, partition, offset: stored.offset, timestamp } };
    }));
  }

  pending(): number {
    return 0;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
