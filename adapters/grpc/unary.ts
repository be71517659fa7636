import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { PluginError } from '../../core/errors.ts';
import type { CallContext } from '../../handlers/define.ts';
import { callContext } from './call-context.ts';
import { assertDecoded } from './lenient-decode.ts';
import { statusName, toPluginError, toServiceError } from './errors.ts';
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
    const finish = (code: number, error?: PluginError) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = statusName(code);
      metrics.requestDuration.observe({ operation, status, backend: 'kafka' }, seconds);
      metrics.requests.inc({ operation, status });
      const fields = { status, duration_ms: Math.round(seconds * 1e5) / 100 };
      if (error === undefined) {
        if (log.isLevelEnabled('debug')) ctx.log.debug(fields, 'request finished');
      } else if (error.code === 'INTERNAL') ctx.log.error({ ...fields, err: error }, `request failed: ${error.message}`);
      else ctx.log.warn({ ...fields, error: error.message }, 'request failed');
    };
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
