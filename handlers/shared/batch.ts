import { z } from 'zod';
import type { CallContext } from './define.ts';

/**
 * A function invocation cannot hold a stream open: this turns a handler's endless stream into one bounded answer.
 */

/** How a batch is bounded when the caller does not say; the invocation's deadline bounds it in any case. */
export const batchDefaults = { maxItems: 100, maxWaitMs: 1_000 };

/** Payload bytes in one answer: base64 makes them 4/3 larger, which must stay under Lambda's 6 MB response limit. */
export const maxBatchBytes = 3 << 20;

/** A batch limit field: a whole number from 0 (the default) to `max`. */
export const batchLimit = (what: string, max: number) =>
  z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).min(0, { error: `expected ${what}` }).max(max, { error: `expected ${what}` }).default(0);

/** When to stop waiting: `maxWaitMs` from now, and `reserveMs` before the invocation's deadline at the latest. */
export function stopTime(ctx: CallContext, maxWaitMs: number, reserveMs: number): number {
  const wanted = Date.now() + maxWaitMs;
  return ctx.deadline === undefined ? wanted : Math.min(wanted, ctx.deadline - reserveMs);
}

/**
 * The context a batch hands its stream handler: the call's, with a signal that also fires when the batch is complete
 * (`abort`, which `collect` fires), so the handler stops waiting for the broker either way.
 */
export function batchContext(ctx: CallContext): { ctx: CallContext; abort: AbortController } {
  const abort = new AbortController();
  return { ctx: { ...ctx, signal: AbortSignal.any([ctx.signal, abort.signal]) }, abort };
}

/** Where a batch stops: count, time, bytes. */
export interface Bounds<T> {
  /** Most items to return. */
  max: number;
  /** Epoch ms at which to stop waiting for more. */
  until: number;
  /** Most total bytes (by `sizeOf`); the first item is always taken, so one large record still gets through. */
  maxBytes: number;
  sizeOf(item: T): number;
}

/**
 * Pulls items until `max`, the byte budget or the time `until`, then ends the stream: it aborts `abort` (and so
 * the handler's signal, which ends its wait for the broker) and returns the iterator, so the handler's `finally` releases
 * what it holds (fetch connections, group membership) before the answer goes out. An item that arrives after the stop
 * was decided is dropped, not returned: the handler delivers it again from the same position (tail cursor, group
 * offset), so nothing is lost.
 */
export async function collect<T>(source: AsyncIterable<T>, bounds: Bounds<T>, batch: { ctx: CallContext; abort: AbortController }): Promise<T[]> {
  const { abort } = batch;
  const { signal } = batch.ctx;
  const iterator = source[Symbol.asyncIterator]();
  const items: T[] = [];
  let bytes = 0;
  let pulled = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    while (items.length < bounds.max && !signal.aborted) {
      const left = bounds.until - Date.now();
      if (left <= 0) break;
      pulled = true;
      const next = iterator.next();
      const stop = new Promise<'stop'>((resolve) => (timer = setTimeout(() => resolve('stop'), left)));
      const result = await Promise.race([next, stop]);
      clearTimeout(timer);
      if (result === 'stop') {
        abort.abort(new Error('the batch reached its time limit'));
        // The generator notices the abort and finishes; its late item (if any) is dropped, see above.
        await next.catch(() => undefined);
        break;
      }
      if (result.done === true) break;
      const size = bounds.sizeOf(result.value);
      if (items.length > 0 && bytes + size > bounds.maxBytes) break;
      bytes += size;
      items.push(result.value);
    }
  } finally {
    clearTimeout(timer);
    if (!signal.aborted) abort.abort(new Error('the batch is complete'));
    // A generator that never started would skip its own finally on return(): start it, so it cleans up.
    if (!pulled) await iterator.next().catch(() => undefined);
    await iterator.return?.();
  }
  return items;
}
