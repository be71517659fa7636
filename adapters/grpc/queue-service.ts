import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { publish } from '../../handlers/publish.ts';
import { publishBatch } from '../../handlers/publish-batch.ts';
import type { Runtime } from './runtime.ts';
import { unary } from './unary.ts';

const data = { data: true };

/** prism.interfaces.queue.QueueBasicInterface: publish side. */
export function queueService(runtime: Runtime): UntypedServiceImplementation {
  return {
    Publish: unary(runtime, 'publish', (req, ctx) => publish(runtime.deps, req, ctx), data),
    PublishBatch: unary(runtime, 'publish_batch', (req, ctx) => publishBatch(runtime.deps, req, ctx), data),
  };
}
