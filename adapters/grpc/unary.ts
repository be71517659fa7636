import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { CallContext } from '../../core/call/context.ts';
import { openCall } from '../../core/call/pipeline.ts';
import { callStart } from './call-context.ts';
import { assertDecoded } from './strict-decode.ts';
import { cancelledByCaller, draining, grpcCallScope, toServiceError } from './errors.ts';
import type { Runtime } from './runtime.ts';

export interface UnaryOptions {
  /** Data calls are refused while draining and counted by Drain; lifecycle and health calls are not. */
  data: boolean;
}

/**
 * Wraps an async function as a grpc-js unary handler. grpc-js ignores a rejected promise (the call would hang until
 * its deadline), so this wrapper owns the answer: it awaits, maps any error through the one error table and answers
 * exactly once; the call pipeline (core/call) gives the context and records metrics and the log line.
 */
export function unary<Req, Res>(
  runtime: Runtime,
  operation: string,
  run: (request: Req, ctx: CallContext) => Promise<Res>,
  options: UnaryOptions,
): handleUnaryCall<Req, Res> {
  const scope = grpcCallScope(runtime.scope);
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const c = openCall(callStart(call, operation), scope);
    // grpc-js emits `cancelled` at every stream close, answered or not: only a call still running is cancelled.
    call.on('cancelled', () => {
      if (!c.ended) c.abort(cancelledByCaller());
    });
    const exec = async (): Promise<Res> => {
      assertDecoded(call.request);
      if (!options.data) return run(call.request, c.ctx);
      if (runtime.draining || runtime.stopping) throw draining();
      return runtime.track(c, () => run(call.request, c.ctx));
    };
    exec().then(
      (response) => {
        c.end();
        callback(null, response);
      },
      (err: unknown) => {
        const error = c.errorOf(err);
        c.end(error);
        callback(toServiceError(error, c.ctx.requestId), null);
      },
    );
  };
}
