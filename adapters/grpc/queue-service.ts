import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ack } from '../../handlers/ack.ts';
import { consume } from '../../handlers/consume.ts';
import { nack } from '../../handlers/nack.ts';
import { offsets } from '../../handlers/get-offsets.ts';
import { publish } from '../../handlers/publish.ts';
import { publishBatch } from '../../handlers/publish-batch.ts';
import { seek } from '../../handlers/seek.ts';
import type { Runtime } from './runtime.ts';
import { serverStream } from './server-stream.ts';
import { unary } from './unary.ts';

const data = { data: true };

/** prism.interfaces.queue.QueueBasicInterface. */
export function queueService(runtime: Runtime): UntypedServiceImplementation {
  return {
    Publish: unary(runtime, 'publish', (req, ctx) => publish(runtime.deps, req, ctx), data),
    PublishBatch: unary(runtime, 'publish_batch', (req, ctx) => publishBatch(runtime.deps, req, ctx), data),
    // A consume stream ends when Drain begins; its unacknowledged messages go back to the group.
    Consume: serverStream(runtime, 'consume', (req, ctx) => consume(runtime.deps, req, ctx), { data: true, endOnDrain: true }),
    // Acks must keep working while draining, or in-flight messages could not be settled.
    Ack: unary(runtime, 'ack', (req, ctx) => ack(runtime.deps, req, ctx), { data: false }),
    Nack: unary(runtime, 'nack', (req, ctx) => nack(runtime.deps, req, ctx), { data: false }),
    Seek: unary(runtime, 'seek', (req, ctx) => seek(runtime.deps, req, ctx), data),
    GetOffsets: unary(runtime, 'get_offsets', (req, ctx) => offsets(runtime.deps, req, ctx), data),
  };
}
