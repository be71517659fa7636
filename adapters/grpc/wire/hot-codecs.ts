import type { ServiceDefinition } from '@grpc/grpc-js';
import { publish } from '../../../handlers/publish.ts';
import { publishBatch } from '../../../handlers/publish-batch.ts';
import { prevalidated } from '../../../handlers/shared/define.ts';
import { decodePublish, decodePublishBatch } from './publish-request.ts';
import { encodePublishBatchResponse, encodePublishResponse } from './publish-response.ts';

type Method = ServiceDefinition[string];

/** The one-pass decoder and hand-written encoder of each hot method of the queue service, keyed by method name. */
const hot = {
  Publish: { operation: publish.operation, decode: decodePublish, encode: encodePublishResponse },
  PublishBatch: { operation: publishBatch.operation, decode: decodePublishBatch, encode: encodePublishBatchResponse },
} as const;

/**
 * Puts the hot codecs in front of the general ones (strict-decode.ts, protobufjs) of the queue service's Publish and
 * PublishBatch: a request they accept reaches the handler already validated for the current limits; anything else
 * goes the general way, which names what is wrong.
 */
export function withHotCodecs(definition: ServiceDefinition, limits: () => { maxMessageBytes: number }): ServiceDefinition {
  const out: Record<string, Method> = { ...definition };
  for (const [name, codec] of Object.entries(hot)) {
    const method: Method | undefined = definition[name];
    if (method === undefined) continue;
    const decode = method.requestDeserialize;
    const encode = method.responseSerialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const current = limits();
        const value = codec.decode(bytes, current.maxMessageBytes);
        return value === undefined ? (decode(bytes) as unknown) : prevalidated(codec.operation, current, value);
      },
      // The handler's answer, in the shape its encoder takes (the handlers' own types).
      responseSerialize: (response: Parameters<typeof codec.encode>[0]) => codec.encode(response as never) ?? encode(response),
    };
  }
  return out as ServiceDefinition;
}
