import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError, kafkaErrorCode } from './classify.ts';
import { producerClientOptions, type ProducerPurpose, type SaslAuth } from './client-options.ts';
import { Partitioner } from './partitioner.ts';
import type { ProducerPort } from './producer-port.ts';
import { recordSize, type ProduceOutcome, type RecordToProduce } from './records.ts';

interface Pending {
  record: RecordToProduce;
  timestamp: number;
  size: number;
  settle: (outcome: ProduceOutcome) => void;
  signal: AbortSignal | undefined;
}

/**
 * The producer port on @platformatic/kafka. Records from concurrent callers queue while a produce request is in
 * flight and leave together in the next one (adaptive batching: no fixed linger on an idle producer, large batches
 * under load). One request at a time keeps per-partition order and the idempotent producer's sequences simple;
 * each record is answered from the broker's per-partition base offset plus its position in the batch.
 */
export function createPlatformaticProducer(config: Config, options: { lingerMs?: number; auth?: SaslAuth; purpose?: ProducerPurpose } = {}): ProducerPort {
  const { kafka } = config;
  const clientOptions = producerClientOptions(config, options.purpose ?? 'publish', options.auth);
  const { acks } = clientOptions;
  const producer = new Producer(clientOptions);
  const partitioner = new Partitioner();
  // One produce request must stay under the broker's message.max.bytes per partition batch.
  const maxBatchBytes = kafka.maxMessageBytes;
  const queue: Pending[] = [];
  let inflight = 0;
  let sending = false;
  let scheduled: { cancel(): void } | undefined;
  let closing: Promise<void> | undefined;
  let idle: (() => void) | undefined;
  // Set while the brokers refuse our credentials. The client retries a refused authentication like a network error
  // (six attempts, ~3 s), and with cached metadata every batch would walk straight into those retries: each refused
  // publish would take seconds instead of answering UNAUTHENTICATED at once. While set, each batch first asks the
  // brokers for metadata itself, in one attempt whose refusal is final.
  let refused = false;

  const schedule = () => {
    if (sending || scheduled !== undefined || queue.length === 0) return;
    const run = () => {
      scheduled = undefined;
      void flush();
    };
    // No linger: flush right after the current I/O callbacks (calls that arrived together still share a request).
    // setTimeout(0) would wait at least 1 ms, which is most of a publish's latency on a local broker.
    if ((options.lingerMs ?? 0) === 0) {
      const handle = setImmediate(run);
      scheduled = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(run, options.lingerMs);
      scheduled = { cancel: () => clearTimeout(handle) };
    }
  };

  async function flush(): Promise<void> {
    sending = true;
    const batch: Pending[] = [];
    let bytes = 0;
    while (queue.length > 0 && (batch.length === 0 || bytes + queue[0]!.size <= maxBatchBytes)) {
      const next = queue.shift()!;
      if (next.signal?.aborted === true) {
        next.settle({ ok: false, error: new PluginError('CANCELLED', 'the call ended before the record was sent; it was not written') });
        continue;
      }
      batch.push(next);
      bytes += next.size;
    }
    try {
      if (batch.length > 0) await send(batch);
    } finally {
      sending = false;
      if (queue.length > 0) void flush();
    }
  }

  async function send(batch: Pending[]): Promise<void> {
    let results: { topic: string; partition: number; offset: bigint }[] | undefined;
    let failure: unknown;
    const partitions = new Map<string, number>();
    try {
      const topics = [...new Set(batch.map((p) => p.record.topic))];
      const md = refused ? await checkedMetadata(topics) : await producer.metadata({ topics, autocreateTopics: kafka.autoCreateTopics });
      for (const t of topics) partitions.set(t, md.topics.get(t)?.partitionsCount ?? 0);
    } catch (err) {
      failure = err;
    }
    if (failure === undefined) {
      // A record addressed to a partition the topic does not have is refused alone; the rest are sent. Checked
      // before partitioning, so that a refused record does not count towards a sticky partition's batch.
      const fits = (p: Pending) => (p.record.partition ?? 0) < (partitions.get(p.record.topic) ?? 0);
      for (const p of batch) {
        if (fits(p)) continue;
        const count = partitions.get(p.record.topic) ?? 0;
        p.settle({ ok: false, error: new PluginError('INVALID_ARGUMENT', `partition: expected a partition of topic ${p.record.topic} (${count === 0 ? 'the topic has none' : `0–${count - 1}`}), got ${p.record.partition ?? 0}`) });
      }
      batch = batch.filter(fits);
      if (batch.length === 0) return;
    }
    // The sticky partition is not moved on per request: it moves when about one batch of bytes went to it (KIP-794).
    const messages = batch.map((p) => {
      const { record } = p;
      const count = partitions.get(record.topic) ?? 0;
      const partition = record.partition ?? (count === 0 ? 0 : record.key !== undefined ? partitioner.forKey(record.key, count) : partitioner.sticky(record.topic, count, p.size));
      return { topic: record.topic, partition, key: record.key, value: record.value, headers: new Map(record.headers.map(([k, v]) => [Buffer.from(k), v])), timestamp: BigInt(p.timestamp) };
    });
    if (failure === undefined) {
      try {
        const res = await producer.send({ messages });
        results = res.offsets ?? [];
      } catch (err) {
        failure = err;
        results = (err as { produced?: { offsets?: typeof results } }).produced?.offsets;
      }
    }
    refused = failure !== undefined && kafkaErrorCode(failure)?.code === 'UNAUTHENTICATED';
    settle(batch, messages, results, failure);
  }

  /** A fresh metadata round trip; retried like the client's own retries, except when the credentials are refused. */
  async function checkedMetadata(topics: string[]): ReturnType<typeof producer.metadata> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await producer.metadata({ topics, autocreateTopics: kafka.autoCreateTopics, forceUpdate: true, retries: 0 });
      } catch (err) {
        if (attempt >= 5 || kafkaErrorCode(err)?.code === 'UNAUTHENTICATED') throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  function settle(batch: Pending[], messages: { topic: string; partition: number }[], results: { topic: string; partition: number; offset: bigint }[] | undefined, failure: unknown): void {
    const base = new Map((results ?? []).map((r) => [`${r.topic}:${r.partition}`, r.offset]));
    const position = new Map<string, bigint>();
    const error = failure === undefined ? undefined : classifyKafkaError(failure, 'produce');
    batch.forEach((p, i) => {
      const { topic, partition } = messages[i]!;
      const key = `${topic}:${partition}`;
      const first = base.get(key);
      const index = position.get(key) ?? 0n;
      position.set(key, index + 1n);
      if (acks === ProduceAcks.NO_RESPONSE && error === undefined) {
        p.settle({ ok: true, ack: { topic, partition, offset: undefined, timestamp: p.timestamp } });
      } else if (first !== undefined) {
        p.settle({ ok: true, ack: { topic, partition, offset: String(first + index), timestamp: p.timestamp } });
      } else {
        p.settle({ ok: false, error: error ?? new PluginError('UNAVAILABLE', `no acknowledgment from the broker for ${key}`) });
      }
    });
  }

  return {
    produce(records, { signal }) {
      if (closing !== undefined) return Promise.reject(new PluginError('UNAVAILABLE', 'the producer is closing'));
      const now = Date.now();
      const outcomes = records.map((record) => new Promise<ProduceOutcome>((resolve) => {
        inflight++;
        const settle = (outcome: ProduceOutcome) => {
          inflight--;
          resolve(outcome);
          if (inflight === 0) idle?.();
        };
        queue.push({ record, timestamp: record.timestamp ?? now, size: recordSize(record), settle, signal });
      }));
      schedule();
      return Promise.all(outcomes);
    },
    pending: () => inflight,
    close() {
      closing ??= (async () => {
        scheduled?.cancel();
        if (queue.length > 0 && !sending) void flush();
        if (inflight > 0) await new Promise<void>((resolve) => (idle = resolve));
        await producer.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
