import { Metadata, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { CallContext } from '../../core/call/context.ts';
import { openCall } from '../../core/call/pipeline.ts';
import type { PluginError } from '../../core/errors.ts';
import { callStart } from './call-context.ts';
import { assertDecoded } from './strict-decode.ts';
import { cancelledByCaller, draining, grpcCallScope, toServiceError } from './errors.ts';
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
 * its generator; any error is mapped through the one error table and sent exactly once. Context, metrics and the log
 * line come from the call pipeline (core/call), as for unary calls.
 */
export function serverStream<Req, Res>(
  runtime: Runtime,
  operation: string,
  run: (request: Req, ctx: CallContext) => Promise<AsyncIterable<Res>>,
  options: ServerStreamOptions,
): handleServerStreamingCall<Req, Res> {
  const scope = grpcCallScope(runtime.scope);
  return (call: ServerWritableStream<Req, Res>) => {
    // Drain ends these streams at once (Tail: resume from the last cursor): the runtime's signal is one of the call's.
    const c = openCall({ ...callStart(call, operation, options.endOnDrain === true ? [runtime.drainSignal] : undefined), stream: true }, scope);
    const { ctx } = c;
    let cancelled = false;
    let sent = 0;
    // grpc-js emits `cancelled` at every stream close: after the stream ended it changes nothing.
    call.on('cancelled', () => {
      if (c.ended) return;
      cancelled = true;
      c.abort(cancelledByCaller());
    });

    const pump = async (): Promise<void> => {
      const iterable = await run(call.request, ctx);
      const iterator = iterable[Symbol.asyncIterator]();
      try {
        // The caller may have gone while the handler positioned itself.
        if (ctx.signal.aborted) return;
        const metadata = new Metadata();
        metadata.set('x-request-id', ctx.requestId);
        call.sendMetadata(metadata);
        for (;;) {
          const next = await iterator.next();
          if (next.done === true || ctx.signal.aborted) break;
          sent++;
          if (!call.write(next.value)) await writable(call, ctx.signal);
        }
      } finally {
        // Ends the handler's generator (its finally releases the Kafka connections) whatever ended the loop.
        await iterator.return?.();
      }
    };
    const exec = async (): Promise<void> => {
      assertDecoded(call.request);
      if (!options.data) return pump();
      if (runtime.draining || runtime.stopping) throw draining();
      return runtime.track(c, pump);
    };
    const fields = () => ({ messages: sent });
    const fail = (error: PluginError) => {
      c.end(error, { fields: fields() });
      call.emit('error', toServiceError(error, ctx.requestId));
    };
    // A cancelled caller is gone: nothing can be sent, only recorded. grpc-js reports a passed deadline as a
    // cancellation; the caller sees DEADLINE_EXCEEDED, so do our metrics.
    const gone = () => c.end(undefined, { status: ctx.deadline !== undefined && Date.now() >= ctx.deadline ? 'DEADLINE_EXCEEDED' : 'CANCELLED', fields: fields() });
    exec().then(
      () => {
        if (cancelled) gone();
        else if (ctx.signal.aborted) fail(c.errorOf(undefined));
        else {
          c.end(undefined, { fields: fields() });
          call.end();
        }
      },
      (err: unknown) => (cancelled ? gone() : fail(c.errorOf(err))),
    );
  };
}
