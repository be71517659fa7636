import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { append, appendBatch } from '../../handlers/append.ts';
import { createStream } from '../../handlers/create-stream.ts';
import { query } from '../../handlers/query.ts';
import { tail } from '../../handlers/tail.ts';
import type { Runtime } from './runtime.ts';
import { serverStream } from './server-stream.ts';
import { unary } from './unary.ts';

const data = { data: true };

/**
 * prism.interfaces.stream.StreamBasicInterface. Requests reach the handlers as proto-loader decodes them (the
 * handlers' schemas use the proto's field names); responses are the handlers' results as they are.
 */
export function streamService(runtime: Runtime): UntypedServiceImplementation {
  return {
    Append: unary(runtime, 'append', (req, ctx) => append(runtime.deps, req, ctx), data),
    AppendBatch: unary(runtime, 'append_batch', (req, ctx) => appendBatch(runtime.deps, req, ctx), data),
    Tail: serverStream(runtime, 'tail', (req, ctx) => tail(runtime.deps, req, ctx), { data: true, endOnDrain: true }),
    Query: unary(runtime, 'query', (req, ctx) => query(runtime.deps, req, ctx), data),
    CreateStream: unary(runtime, 'create_stream', (req, ctx) => createStream(runtime.deps, req, ctx), data),
  };
}
