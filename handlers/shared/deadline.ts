import { PluginError, isPluginError } from '../../core/errors.ts';
import type { CallContext } from './define.ts';

/** Answer this long before the caller's deadline, so the caller reads our status rather than its own timeout. */
const marginMs = 50;

/**
 * Waits for `work` until shortly before the call's deadline (or its cancellation), then fails with UNAVAILABLE
 * naming what did not happen. The work itself is not undone: a record already sent may still be written, which is
 * why publishing is at-least-once for a caller that retries.
 */
export function beforeDeadline<T>(work: Promise<T>, ctx: CallContext, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: PluginError) => {
      cleanup();
      reject(error);
    };
    // The runtime aborts with a PluginError when it ends a call itself (a drain running out of time): pass that on.
    const onAbort = () => {
      const reason: unknown = ctx.signal.reason;
      fail(isPluginError(reason) ? reason : new PluginError('CANCELLED', `${what}: the call was cancelled`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    if (ctx.deadline !== undefined) {
      const ms = Math.max(0, ctx.deadline - Date.now() - marginMs);
      timer = setTimeout(() => fail(new PluginError('UNAVAILABLE', `${what}: no answer from the brokers before the call's deadline`, { retryable: true })), ms);
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
