import { Metadata, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { isPluginError, PluginError } from '../../core/errors.ts';
import type { CallContext } from '../../handlers/shared/define.ts';
import { callContext } from './call-context.ts';
import { assertDecoded } from './strict-decode.ts';
import { recordOutcome, toPluginError } from '../../core/call-outcome.ts';
import { statusName, toServiceError } from './errors.ts';
import type { Runtime } from './runtime.ts';

export interface ServerStreamOptions {
  /** Data calls are refused while draining and counted by Drain. */
  data: boolean;
  /**
   * End the stream with UNAVAILABLE as soon as Drain begins. For streams with no natural end (a tail), which would
   * otherwise hold Drain until its timeout; callers resume elsewhere from their last cursor.
   */
  endOnDrain?: boolean;
}

/** Resolves when the stream wants more data or the call is over. */
function writable(call: ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Wraps a handler that resolves with an async iterable as a grpc-js server-streaming handler. The handler positions
 * itself first (its promise); response headers then tell the caller the stream is live. The wrapper owns flow
 * control: it pulls the next message only after the previous write was accepted, and waits for `drain` when
 * `write()` reports a full buffer, so a slow reader bounds memory. Cancellation aborts the handler's signal and ends
 * its generator; any error is mapped through the one error table and sent exactly once. Metrics and logs as unary.
 */
export function serverStream<Req, Res>(
  runtime: Runtime,
  operation: string,
  run: (request: Req, ctx: CallContext) => Promise<AsyncIterable<Res>>,
  options: ServerStreamOptions,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const { log, metrics } = runtime.scope;
    const { ctx, abort, dispose } = callContext(call, log, operation);
    const started = process.hrtime.bigint();
    let cancelled = false;
    let sent = 0;
    call.on('cancelled', () => (cancelled = true));
    const finish = (code: number, error?: PluginError) => recordOutcome(metrics, ctx.log, { operation, status: statusName(code), started, error, fields: { messages: sent } });
    // Drain ends these streams at once (Tail: resume from the last cursor); told by the runtime's signal, not polled.
    const drained = runtime.drainSignal;
    const onDrain = () => abort.abort(drained.reason);
    if (options.endOnDrain === true) {
      if (drained.aborted) onDrain();
      else drained.addEventListener('abort', onDrain, { once: true });
    }

    const pump = async (): Promise<void> => {
      const iterable = await run(call.request, ctx);
      const iterator = iterable[Symbol.asyncIterator]();
      try {
        // The caller may have gone while the handler positioned itself.
        if (abort.signal.aborted) return;
        const metadata = new Metadata();
        metadata.set('x-request-id', ctx.requestId);
        call.sendMetadata(metadata);
        for (;;) {
          const next = await iterator.next();
          if (next.done === true || abort.signal.aborted) break;
          sent++;
          if (!call.write(next.value)) await writable(call, abort.signal);
        }
      } finally {
        // Ends the handler's generator (its finally releases the Kafka connections) whatever ended the loop.
        await iterator.return?.();
      }
    };
    const exec = (): Promise<void> => {
      try {
        assertDecoded(call.request);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      if (options.data && (runtime.draining || runtime.stopping)) {
        return Promise.reject(new PluginError('UNAVAILABLE', 'the plugin is draining and accepts no new requests', { retryable: true }));
      }
      return options.data ? runtime.track(abort, pump) : pump();
    };
    /** Why the call ended when the signal fired, as the caller should see it. */
    const abortError = (): PluginError => {
      const reason: unknown = abort.signal.reason;
      if (isPluginError(reason)) return reason;
      return new PluginError('UNAVAILABLE', `the stream was ended: ${reason instanceof Error ? reason.message : String(reason)}`, { retryable: true });
    };
    const fail = (error: PluginError) => {
      const serviceError = toServiceError(error, ctx.requestId);
      finish(serviceError.code ?? 13, error);
      call.emit('error', serviceError);
    };
    // grpc-js reports a passed deadline as a cancellation; the caller sees DEADLINE_EXCEEDED, so do our metrics.
    const gone = () => finish(ctx.deadline !== undefined && Date.now() >= ctx.deadline ? 4 : 1);
    exec()
      .then(
        () => {
          if (cancelled) gone();
          else if (abort.signal.aborted) fail(abortError());
          else {
            finish(0);
            call.end();
          }
        },
        (err: unknown) => {
          // A cancelled caller is gone: nothing can be sent, only recorded.
          if (cancelled) gone();
          else fail(abort.signal.aborted ? abortError() : toPluginError(err));
        },
      )
      .finally(() => {
        drained.removeEventListener('abort', onDrain);
        dispose();
      });
  };
}
