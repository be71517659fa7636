import { z } from 'zod';
import { defineHandler, type CallContext } from './shared/define.ts';
import { encodeTailCursor } from './stream/cursor.ts';
import type { StreamEvent } from './stream/events.ts';
import { follow, position, tailInput, type TailDeps } from './tail.ts';
import { batchContext, batchDefaults, batchLimit, collect, maxBatchBytes, stopTime } from './shared/batch.ts';

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
 * cursor to pass back. The position is taken first (the partition count read once) and the answer's cursor starts
 * there, so even an empty answer carries a cursor and the next call misses nothing appended in between.
 */
export const tailBatch = defineHandler({
  operation: 'tail',
  input: bounds.and(tailInput),
  async run(deps: TailDeps, input, ctx: CallContext): Promise<TailBatch> {
    const positions = await position(deps.reader, input);
    // Encoded before the tail moves the positions on: even an empty answer resumes from where this one started.
    const start = encodeTailCursor({ topic: input.topic, positions });
    const batch = batchContext(ctx);
    const events = follow(deps, input.topic, positions, { key: input.key_filter, tags: input.tag_filter }, batch.ctx);
    const collected = await collect(events, {
      max: input.max_events || batchDefaults.maxItems,
      until: stopTime(ctx, input.max_wait_ms || batchDefaults.maxWaitMs, endReserveMs),
      maxBytes: maxBatchBytes,
      sizeOf: (e) => e.payload.length + e.key.length,
    }, batch);
    return { events: collected, cursor: collected.at(-1)?.cursor ?? start };
  },
});
