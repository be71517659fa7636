import type { StreamEvent } from '../../handlers/stream/events.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';

/** Takes `n` events from a tail generator, failing after `timeoutMs`; the generator stays open for more. */
export async function take(events: AsyncIterator<StreamEvent>, n: number, timeoutMs = 5_000): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} events within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    });
    try {
      const next = await Promise.race([events.next(), timeout]);
      if (next.done === true) break;
      out.push(next.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/**
 * True when the generator yields nothing more within `ms`. Then ends it through `abort` (the call's signal): an
 * async generator's return() waits for a pending next(), so only the signal can end it mid-wait.
 */
export async function quiet(events: AsyncIterator<StreamEvent>, ms: number, abort: AbortController): Promise<boolean> {
  const pending = events.next();
  const timer = setTimeout(() => abort.abort(), ms);
  const next = await pending;
  clearTimeout(timer);
  return next.done === true;
}

/** A metrics registry without process metrics, for handler deps. */
export const testMetrics = () => createMetrics({ namespace: 'test', defaultMetrics: false });

/** "partition:offset" of each event, the identity tests compare. */
export const ids = (events: { partition: number; offset: string }[]) => events.map((e) => `${e.partition}:${e.offset}`);
