import { PluginError } from '../../core/errors.ts';
import type { ProducerPort } from '../../core/kafka/producer-port.ts';
import type { ProduceOutcome, RecordToProduce } from '../../core/kafka/records.ts';
import { FakeLog } from './fake-reader.ts';

/**
 * In-memory producer port writing into a FakeLog (so a FakeReader reads what it wrote); runs the producer contract
 * suite. Partition: the record's, else a hash of the key, else round robin. Records are written at once and answered
 * on a later tick, so `pending()` counts them meanwhile. `fail` decides a per-record failure; `calls` records every
 * produce call.
 */
export class FakeProducer implements ProducerPort {
  calls: RecordToProduce[][] = [];
  fail: (record: RecordToProduce, index: number) => Error | undefined = () => undefined;
  #next = 0;
  #closed = false;
  #pending = 0;
  readonly #answering = new Set<Promise<unknown>>();
  constructor(readonly log: FakeLog = new FakeLog(), private readonly now: () => number = Date.now) {}

  produce(records: RecordToProduce[], options: { signal?: AbortSignal } = {}): Promise<ProduceOutcome[]> {
    if (this.#closed) return Promise.reject(new PluginError('UNAVAILABLE', 'the producer is closing'));
    this.calls.push(records);
    const aborted = options.signal?.aborted === true;
    const outcomes = records.map((record, i) => (aborted ? cancelled() : this.#write(record, i)));
    this.#pending += records.length;
    const answer = Promise.resolve().then(() => {
      this.#pending -= records.length;
      return outcomes;
    });
    this.#answering.add(answer);
    void answer.finally(() => this.#answering.delete(answer));
    return answer;
  }

  #write(record: RecordToProduce, index: number): ProduceOutcome {
    const error = this.fail(record, index);
    if (error !== undefined) return { ok: false, error };
    const count = this.log.topics.get(record.topic)?.partitions.length ?? 0;
    if (count === 0) return { ok: false, error: new PluginError('NOT_FOUND', `topic ${record.topic} does not exist`) };
    if (record.partition !== undefined && record.partition >= count) {
      return { ok: false, error: new PluginError('INVALID_ARGUMENT', `partition: expected a partition of topic ${record.topic} (0–${count - 1}), got ${record.partition}`) };
    }
    const partition = record.partition ?? (record.key === undefined ? this.#next++ % count : [...record.key].reduce((h, b) => (h * 31 + b) >>> 0, 7) % count);
    const timestamp = record.timestamp ?? this.now();
    const stored = this.log.append(record.topic, partition, { value: record.value, key: record.key, headers: record.headers, timestamp });
    return { ok: true, ack: { topic: record.topic, partition, offset: stored.offset, timestamp } };
  }

  pending(): number {
    return this.#pending;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#answering]);
  }
}

const cancelled = (): ProduceOutcome => ({ ok: false, error: new PluginError('CANCELLED', 'the call ended before the record was sent; it was not written') });
