import { z } from 'zod';
import type { ReaderPort } from '../core/kafka/reader-port.ts';
import type { Metrics } from '../core/metrics/metrics.ts';
import { defineHandler, type CallContext } from './shared/define.ts';
import { decodeTailCursor, encodeTailCursor, type Positions } from './stream/cursor.ts';
import { matches, toEvent, type EventFilter, type StreamEvent } from './stream/events.ts';
import { startPositions } from './stream/tail-start.ts';
import { keyFilter, offset, optionalTimeMs, tags, topicName } from './stream/schemas.ts';

export const tailInput = z
  .object({
    topic: topicName,
    start: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['latest', 'earliest'], { error: 'expected "latest" or "earliest"' }).optional()),
    start_time: optionalTimeMs('start_time'),
    start_offsets: z.record(z.string().regex(/^\d{1,7}$/, { error: 'expected partition numbers as keys' }), offset, { error: 'expected a map of partition to offset' }).default({}),
    cursor: z.string({ error: 'expected a cursor string' }).default(''),
    key_filter: keyFilter,
    tag_filter: tags('tag_filter'),
  })
  .refine((t) => [t.start !== undefined, t.start_time !== undefined, Object.keys(t.start_offsets).length > 0, t.cursor !== ''].filter(Boolean).length <= 1, {
    error: 'expected at most one of start, start_time, start_offsets and cursor',
    path: ['start'],
  });

export type TailRequest = z.output<typeof tailInput>;

/** Tuning with production defaults; tests shorten the partition check. */
export interface TailTuning {
  /** Longest broker-side wait of one fetch when nothing is new (bounds how late cancellation is noticed). */
  maxWaitMs: number;
  /** Bytes per partition per fetch: the most a slow reader makes the plugin hold per partition. */
  maxBytesPerPartition: number;
  /** How often the topic's partition count is re-read to follow partitions added while tailing. */
  partitionCheckMs: number;
}

export const defaultTailTuning: TailTuning = { maxWaitMs: 500, maxBytesPerPartition: 256 << 10, partitionCheckMs: 5_000 };

export interface TailDeps {
  reader: ReaderPort;
  metrics: Pick<Metrics, 'messagesConsumed'>;
  tailTuning?: Partial<TailTuning>;
}

/** Adds partitions created since the last check; they are read from their start, so nothing in them is missed. */
async function followNewPartitions(reader: ReaderPort, topic: string, positions: Positions, ctx: CallContext): Promise<void> {
  const count = await reader.partitionCount(topic, { fresh: true });
  const added: number[] = [];
  for (let p = 0; p < count; p++) if (!positions.has(p)) added.push(p);
  if (added.length === 0) return;
  const starts = await reader.offsets(topic, 'earliest', added);
  for (const p of added) positions.set(p, starts.get(p) ?? '0');
  ctx.log.info({ topic, partitions: added }, 'tail follows new partitions');
}

export async function* follow(deps: TailDeps, topic: string, positions: Positions, filter: EventFilter, ctx: CallContext): AsyncGenerator<StreamEvent, void, undefined> {
  const tuning = { ...defaultTailTuning, ...deps.tailTuning };
  const fetcher = deps.reader.openFetcher(topic);
  ctx.trace?.reads(topic);
  let nextCheck = Date.now() + tuning.partitionCheckMs;
  try {
    while (!ctx.signal.aborted) {
      if (Date.now() >= nextCheck) {
        // A failed check is retried at the next one; the fetch below reports a broker that is really gone.
        await followNewPartitions(deps.reader, topic, positions, ctx).catch((err: unknown) => ctx.log.warn({ err, topic }, 'partition check failed'));
        nextCheck = Date.now() + tuning.partitionCheckMs;
      }
      const maxWaitMs = Math.max(0, Math.min(tuning.maxWaitMs, nextCheck - Date.now()));
      let answers;
      try {
        answers = await fetcher.fetch(new Map(positions), { maxWaitMs, maxBytesPerPartition: tuning.maxBytesPerPartition, signal: ctx.signal });
      } catch (err) {
        if (ctx.signal.aborted) return;
        throw err;
      }
      for (const answer of answers) {
        for (const record of answer.records) {
          positions.set(answer.partition, String(BigInt(record.offset) + 1n));
          if (!matches(record, filter)) continue;
          deps.metrics.messagesConsumed.inc({ topic });
          const span = ctx.trace?.receive(record);
          try {
            // The cursor is taken now: it names exactly the events delivered so far, whatever comes next.
            yield toEvent(record, encodeTailCursor({ topic, positions }));
          } finally {
            span?.end();
          }
        }
        positions.set(answer.partition, answer.nextOffset);
      }
    }
  } finally {
    await fetcher.close();
  }
}

/** Where a tail of `input` starts in every partition of its topic (the partition count read once, fresh). */
export async function position(reader: ReaderPort, input: TailRequest): Promise<Positions> {
  const count = await reader.partitionCount(input.topic, { fresh: true });
  const cursor = input.cursor === '' ? undefined : decodeTailCursor(input.cursor, input.topic);
  return startPositions(reader, input, count, cursor);
}

/**
 * Follows a topic from a position — latest (default), earliest, a time, explicit offsets or a cursor — until the
 * caller cancels. Resolves once positioned (the adapter then tells the caller), with an async generator of events.
 * Each event carries a cursor: resuming from it delivers every later event once, with no gap. Order is per
 * partition by offset; partitions interleave as their records arrive. Partitions added while tailing are followed
 * from their start. Reads are batched fetches without a consumer group; the generator fetches only when pulled, so
 * a slow caller holds at most one fetch answer in memory.
 */
export const tail = defineHandler({
  operation: 'tail',
  input: tailInput,
  async run(deps: TailDeps, input, ctx: CallContext): Promise<AsyncGenerator<StreamEvent, void, undefined>> {
    const positions = await position(deps.reader, input);
    return follow(deps, input.topic, positions, { key: input.key_filter, tags: input.tag_filter }, ctx);
  },
});
