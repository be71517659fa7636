import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { PluginError } from '../errors.ts';
import { classifyKafkaError, kafkaErrorCode } from './classify.ts';
import { producerClientOptions, type ProducerPurpose, type SaslAuth } from './client-options.ts';
import { Partitioner } from './partitioner.ts';
import type { ProducerPort } from './producer-port.ts';
import { recordSize, type ProduceOutcome, type RecordToProduce } from './records.ts';

/**
 * One produce() call: its records wait here as a whole, are sent in one or more produce requests, and are answered
 * together. Per call, not per record: one promise, one outcome array, no closure per record.
 */
interface Request {
  records: RecordToProduce[];
  sizes: number[];
  /** The send time (ms) of records that carry no timestamp of their own, and the same as a bigint for the client. */
  timestamp: number;
  timestampBig: bigint;
  outcomes: ProduceOutcome[];
  /** The first record not yet taken into a produce request. */
  next: number;
  /** Records not yet answered. */
  left: number;
  resolve: (outcomes: ProduceOutcome[]) => void;
  signal: AbortSignal | undefined;
}

/** Records [from, to) of a request, taken into one produce request. */
interface Slice {
  request: Request;
  from: number;
  to: number;
}

/** Header names as the client wants them (Buffers), built once per name: a handful of names carry every record. */
const headerNames = new Map<string, Buffer>();
function headerName(name: string): Buffer {
  let b = headerNames.get(name);
  if (b === undefined) {
    b = Buffer.from(name);
    if (headerNames.size < 1_000) headerNames.set(name, b);
  }
  return b;
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
  const queue: Request[] = [];
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

  /** Answers one record; a request resolves when its last record is answered. */
  function answer(request: Request, index: number, outcome: ProduceOutcome): void {
    request.outcomes[index] = outcome;
    inflight--;
    if (--request.left === 0) request.resolve(request.outcomes);
    if (inflight === 0) idle?.();
  }

  /** Takes queued records, whole calls first, up to one produce request's bytes (at least one record). */
  function take(): Slice[] {
    const slices: Slice[] = [];
    let bytes = 0;
    let count = 0;
    while (queue.length > 0) {
      const request = queue[0]!;
      if (request.signal?.aborted === true) {
        queue.shift();
        for (let i = request.next; i < request.records.length; i++) answer(request, i, { ok: false, error: new PluginError('CANCELLED', 'the call ended before the record was sent; it was not written') });
        continue;
      }
      const from = request.next;
      let to = from;
      while (to < request.records.length && (count === 0 || bytes + request.sizes[to]! <= maxBatchBytes)) {
        bytes += request.sizes[to]!;
        to++;
        count++;
      }
      if (to > from) slices.push({ request, from, to });
      request.next = to;
      if (to < request.records.length) break;
      queue.shift();
    }
    return slices;
  }

  async function flush(): Promise<void> {
    sending = true;
    try {
      const slices = take();
      if (slices.length > 0) await send(slices);
    } finally {
      sending = false;
      if (queue.length > 0) void flush();
    }
  }

  async function send(slices: Slice[]): Promise<void> {
    let failure: unknown;
    const partitions = new Map<string, number>();
    try {
      const topics: string[] = [];
      let last: string | undefined;
      for (const { request, from, to } of slices) {
        for (let i = from; i < to; i++) {
          const { topic } = request.records[i]!;
          if (topic !== last && !topics.includes(topic)) topics.push(topic);
          last = topic;
        }
      }
      const md = refused ? await checkedMetadata(topics) : await producer.metadata({ topics, autocreateTopics: kafka.autoCreateTopics });
      for (const t of topics) partitions.set(t, md.topics.get(t)?.partitionsCount ?? 0);
    } catch (err) {
      failure = err;
    }
    // Who each message of the produce request answers: parallel arrays, no object per record.
    const owners: Request[] = [];
    const indexes: number[] = [];
    const messages: { topic: string; partition: number; key: Buffer | undefined; value: Buffer; headers: Map<Buffer, Buffer>; timestamp: bigint }[] = [];
    for (const { request, from, to } of slices) {
      for (let i = from; i < to; i++) {
        const record = request.records[i]!;
        const count = partitions.get(record.topic) ?? 0;
        // A record addressed to a partition the topic does not have is refused alone; the rest are sent. Checked
        // before partitioning, so that a refused record does not count towards a sticky partition's batch.
        if (failure === undefined && (record.partition ?? 0) >= count) {
          answer(request, i, { ok: false, error: new PluginError('INVALID_ARGUMENT', `partition: expected a partition of topic ${record.topic} (${count === 0 ? 'the topic has none' : `0–${count - 1}`}), got ${record.partition ?? 0}`) });
          continue;
        }
        // The sticky partition is not moved on per request: it moves when about one batch of bytes went to it (KIP-794).
        const partition = record.partition ?? (count === 0 ? 0 : record.key !== undefined ? partitioner.forKey(record.key, count) : partitioner.sticky(record.topic, count, request.sizes[i]!));
        const headers = new Map<Buffer, Buffer>();
        for (const [name, value] of record.headers) headers.set(headerName(name), value);
        messages.push({ topic: record.topic, partition, key: record.key, value: record.value, headers, timestamp: record.timestamp === undefined ? request.timestampBig : BigInt(record.timestamp) });
        owners.push(request);
        indexes.push(i);
      }
    }
    if (messages.length === 0 && failure === undefined) return;
    let results: { topic: string; partition: number; offset: bigint }[] | undefined;
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
    settle(owners, indexes, messages, results, failure);
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

  /** Answers each sent record from its partition's base offset plus its position among that partition's records. */
  function settle(owners: Request[], indexes: number[], messages: { topic: string; partition: number }[], results: { topic: string; partition: number; offset: bigint }[] | undefined, failure: unknown): void {
    const base = new Map<string, Map<number, bigint>>();
    for (const r of results ?? []) {
      let byPartition = base.get(r.topic);
      if (byPartition === undefined) base.set(r.topic, (byPartition = new Map<number, bigint>()));
      byPartition.set(r.partition, r.offset);
    }
    const position = new Map<string, Map<number, number>>();
    const error = failure === undefined ? undefined : classifyKafkaError(failure, 'produce');
    for (let m = 0; m < messages.length; m++) {
      const { topic, partition } = messages[m]!;
      const request = owners[m]!;
      const timestamp = request.records[indexes[m]!]!.timestamp ?? request.timestamp;
      let seen = position.get(topic);
      if (seen === undefined) position.set(topic, (seen = new Map<number, number>()));
      const index = seen.get(partition) ?? 0;
      seen.set(partition, index + 1);
      const first = base.get(topic)?.get(partition);
      let outcome: ProduceOutcome;
      if (acks === ProduceAcks.NO_RESPONSE && error === undefined) outcome = { ok: true, ack: { topic, partition, offset: undefined, timestamp } };
      else if (first !== undefined) outcome = { ok: true, ack: { topic, partition, offset: String(first + BigInt(index)), timestamp } };
      else outcome = { ok: false, error: error ?? new PluginError('UNAVAILABLE', `no acknowledgment from the broker for ${topic}:${partition}`) };
      answer(request, indexes[m]!, outcome);
    }
  }

  return {
    produce(records, { signal }) {
      if (closing !== undefined) return Promise.reject(new PluginError('UNAVAILABLE', 'the producer is closing'));
      if (records.length === 0) return Promise.resolve([]);
      const timestamp = Date.now();
      return new Promise<ProduceOutcome[]>((resolve) => {
        const sizes = records.map(recordSize);
        inflight += records.length;
        queue.push({ records, sizes, timestamp, timestampBig: BigInt(timestamp), outcomes: new Array<ProduceOutcome>(records.length), next: 0, left: records.length, resolve, signal });
        schedule();
      });
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
