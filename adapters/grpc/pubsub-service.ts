import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { publish } from '../../handlers/publish.ts';
import { subscribe, unsubscribe } from '../../handlers/subscribe.ts';
import type { Runtime } from './runtime.ts';
import { serverStream } from './server-stream.ts';
import { unary } from './unary.ts';

const data = { data: true };

/**
 * prism.interfaces.pubsub.PubSubBasicInterface, exactly as upstream defines it. Publish answers after the broker
 * acknowledged the record; failures are gRPC statuses from the one error table (success is true on every answer).
 */
export function pubsubService(runtime: Runtime): UntypedServiceImplementation {
  return {
    Publish: unary(runtime, 'publish', async (req: { topic?: string; payload?: Buffer; metadata?: Record<string, string> }, ctx) => {
      const result = await publish(runtime.deps, { topic: req.topic, payload: req.payload, metadata: req.metadata }, ctx);
      return { success: true, message_id: result.message_id, error: '' };
    }, data),
    Subscribe: serverStream(runtime, 'subscribe', (req, ctx) => subscribe(runtime.deps, req, ctx), { data: true, endOnDrain: true }),
    Unsubscribe: unary(runtime, 'unsubscribe', (req, ctx) => unsubscribe(runtime.deps, req, ctx), { data: false }),
  };
}
