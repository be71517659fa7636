/**
 * The function bundle's entry (dist/function.mjs): the same handlers as the gRPC server, for function platforms.
 *
 *   export { handler } from './function.mjs';                        // direct and HTTP invocations
 *   export const handler = createKafkaEventHandler(async (record, ctx) => { … });   // Kafka event sources
 *
 * The runtime lives at module scope: its Kafka connections are built on the first invocation, shared by concurrent
 * first invocations, reused by every warm one, and closed only on the runtime's shutdown signal (SIGTERM).
 */
import { eventHandler, kafkaEventHandler } from './handler.ts';
import type { KafkaRecordHandler } from './kafka-handler.ts';
import { functionProtos } from '../protos/files.ts';
import { protoRoot } from '../protos/root.ts';
import { FunctionRuntime, type FunctionRuntimeOptions } from './runtime.ts';

export type { FunctionContext } from './invocation.ts';
export type { KafkaEventRecord, KafkaBatchResponse } from './kafka-event.ts';
export type { KafkaRecordContext, KafkaRecordHandler } from './kafka-handler.ts';
export { FunctionRuntime, type FunctionRuntimeOptions } from './runtime.ts';

/** Lambda gives a function 500 ms after SIGTERM (when extensions are registered): close within it. */
const shutdownGraceMs = 400;

// The message types are read at load time (the platform's init phase), not in the first invocation; the broker
// connections stay lazy, so a function whose broker is down still loads and answers UNAVAILABLE.
protoRoot(functionProtos);

/** The process's runtime, configured from the environment like the server (KAFKA_BROKERS, KAFKA_TOPIC, …). */
export const runtime = new FunctionRuntime({ env: process.env });

/** Direct (`{operation, request}`) and HTTP (API Gateway v1/v2, function URL) invocations. */
export const handler = eventHandler(runtime);

/** A handler for Kafka event source mappings that runs `fn` for each record (see kafka-handler.ts). */
export function createKafkaEventHandler(fn: KafkaRecordHandler) {
  return kafkaEventHandler(runtime, fn);
}

/** A separate runtime with its own configuration and connections (e.g. credentials from a secret store). */
export function createFunctionRuntime(options: FunctionRuntimeOptions) {
  const own = new FunctionRuntime(options);
  return { runtime: own, handler: eventHandler(own), createKafkaEventHandler: (fn: KafkaRecordHandler) => kafkaEventHandler(own, fn) };
}

process.once('SIGTERM', () => {
  runtime.log.info('shutdown requested (SIGTERM): closing kafka connections');
  const exit = () => process.exit(0);
  setTimeout(exit, shutdownGraceMs).unref();
  void runtime.close().then(() => {
    runtime.log.info('kafka function runtime stopped');
    exit();
  });
});
