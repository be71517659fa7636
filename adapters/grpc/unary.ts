import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { PluginError } from '../../core/errors.ts';
import type { CallContext } from '../../handlers/shared/define.ts';
import { callContext } from './call-context.ts';
import { assertDecoded } from './strict-decode.ts';
import { recordOutcome, toPluginError } from '../../core/call-outcome.ts';
import { statusName, toServiceError } from './errors.ts';
import type { Runtime } from './runtime.ts';

export interface UnaryOptions {
  /** Data calls are refused while draining and counted by Drain; lifecycle and health calls are not. */
  data: boolean;
}

/**
 * Wraps an async function as a grpc-js unary handler. grpc-js ignores a rejected promise (the call would hang until
 * its deadline), so this wrapper owns the outcome: it awaits, maps any error through the one error table, answers
 * exactly once, records metrics and logs failures with operation, status, duration and request id.
 */
export function unary<Req, Res>(
  runtime: Runtime,
  operation: string,
  run: (request: Req, ctx: CallContext) => Promise<Res>,
  options: UnaryOptions,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const { log, metrics } = runtime.scope;
    const { ctx, abort, dispose } = callContext(call, log, operation);
    const started = process.hrtime.bigint();
    const finish = (code: number, error?: PluginError) => recordOutcome(metrics, ctx.log, { operation, status: statusName(code), started, error });
    const exec = async (): Promise<Res> => {
      assertDecoded(call.request);
      if (options.data && (runtime.draining || runtime.stopping)) {
        throw new PluginError('UNAVAILABLE', 'the plugin is draining and accepts no new requests', { retryable: true });
      }
      return options.data ? runtime.track(abort, () => run(call.request, ctx)) : run(call.request, ctx);
    };
    exec().then(
      (response) => {
        finish(0);
        callback(null, response);
      },
      (err: unknown) => {
        const error = toPluginError(err);
        const serviceError = toServiceError(error, ctx.requestId);
        finish(serviceError.code ?? 13, error);
        callback(serviceError, null);
      },
    ).finally(dispose);
  };
}
