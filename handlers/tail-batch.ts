import { z } from 'zod';
import { defineHandler, type CallContext } from './shared/define.ts';
import { decodeTailCursor, encodeTailCursor } from './stream/cursor.ts';
import type { StreamEvent } from './stream/events.ts';
import { startPositions } from './stream/tail-start.ts';
import { tail, tailInput, type TailDeps } from './tail.ts';
import { batchDefaults, batchLimit, collect, maxBatchBytes, stopTime } from './shared/batch.ts';

/** Stop this long before the deadline: ending the stream and encoding the answer take a moment. */
const endReserveMs = 200;

/** The fields TailBatchRequest adds to TailRequest. */
const bounds = z.object({
  max_events: batchLimit('a number of events from 1 to 10000 (0 for 100)', 10_000),
  max_wait_ms: batchLimit('milliseconds from 1 to 900000 (0 for 1000)', 900_000),
});

/** The answer of a function-mode tail (TailBatchResponse). */
export interface TailBatch {
  events: StreamEvent[];
  /** Resume after the last event returned; when none came, the position the tail started from. */
  cursor: string;
}

/**
 * Tail in function mode: positions like the gRPC Tail (latest, earliest, a time, offsets or a cursor), then returns
 * at most `max_events` events, or what arrived within `max_wait_ms`, or what arrived before the deadline — with a
 * cursor to pass back. The position is taken first and handed to the tail handler as a cursor, so even an empty
 * answer carries a cursor and the next call misses nothing appended in between.
 */
export const tailBatch = defineHandler({
  operation: 'tail',
  input: bounds.and(tailInput),
  async run(deps: TailDeps, input, ctx: CallContext): Promise<TailBatch> {
    const count = await deps.reader.partitionCount(input.topic, { fresh: true });
    const resumed = input.cursor === '' ? undefined : decodeTailCursor(input.cursor, input.topic);
    const start = encodeTailCursor({ topic: input.topic, positions: await startPositions(deps.reader, input, count, resumed) });

    const abort = new AbortController();
    const onAbort = () => abort.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const events = await tail(deps, { topic: input.topic, cursor: start, key_filter: input.key_filter, tag_filter: input.tag_filter }, { ...ctx, signal: abort.signal });
      const collected = await collect(events, {
        max: input.max_events || batchDefaults.maxItems,
        until: stopTime(ctx, input.max_wait_ms || batchDefaults.maxWaitMs, endReserveMs),
        maxBytes: maxBatchBytes,
        sizeOf: (e) => e.payload.length + e.key.length,
      }, abort);
      return { events: collected, cursor: collected.at(-1)?.cursor ?? start };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  },
});
