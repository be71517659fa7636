import { invalidArgument, PluginError } from '../../core/errors.ts';
import { showValue } from '../../core/errors.ts';
import { FunctionError } from './errors.ts';
import { httpRequestId, httpResponse, httpTraceHeaders, isHttpEvent, readHttpEvent, type HttpResponse } from './http-event.ts';
import type { FunctionContext } from './invocation.ts';
import { isKafkaEvent } from './kafka-event.ts';
import { processKafkaEvent, type KafkaRecordHandler } from './kafka-handler.ts';
import type { FunctionRuntime } from './runtime.ts';

/** A direct invocation: `{ "operation": "publish", "request": { …proto3 JSON… } }`. */
export interface DirectEvent {
  operation: string;
  request?: unknown;
}

function readDirectEvent(event: unknown): { operation: unknown; request: unknown } {
  if (typeof event !== 'object' || event === null || !('operation' in event)) {
    throw invalidArgument([{ field: 'event', expected: '{"operation": …, "request": …} (or an API Gateway / function URL event)', got: showValue(event) }]);
  }
  const { operation, request } = event as { operation: unknown; request?: unknown };
  return { operation, request: request ?? {} };
}

/**
 * The Lambda-compatible handler of direct and HTTP invocations. A direct invocation resolves with the proto3 JSON
 * answer or throws a FunctionError (Lambda reports its code, e.g. UNAVAILABLE, as the errorType); an HTTP event
 * always resolves with an HTTP answer (status from the one error table on failure).
 */
export function eventHandler(runtime: FunctionRuntime) {
  return async (event: unknown, context?: FunctionContext): Promise<Record<string, unknown> | HttpResponse> => {
    if (isHttpEvent(event)) return httpResponse(await runtime.run(() => readHttpEvent(event), context, httpRequestId(event), httpTraceHeaders(event)));
    const outcome = await runtime.run(() => {
      if (isKafkaEvent(event)) {
        throw new PluginError('FAILED_PRECONDITION', 'a Kafka event batch needs your record handler: export createKafkaEventHandler(yourFunction) as the handler');
      }
      return readDirectEvent(event);
    }, context);
    if (outcome.ok) return outcome.body;
    throw new FunctionError(outcome.error, outcome.requestId);
  };
}

/**
 * A Lambda handler for Kafka event source mappings (MSK or self-managed): runs `fn` for each record and answers
 * with the partial batch response (`batchItemFailures`) naming the records to retry.
 */
export function kafkaEventHandler(runtime: FunctionRuntime, fn: KafkaRecordHandler) {
  return (event: unknown, context?: FunctionContext) => processKafkaEvent(runtime, fn, event, context);
}
