import type { ServiceDefinition } from '@grpc/grpc-js';
import { PluginError } from '../../core/errors.ts';

/** Marks a request whose bytes did not decode as its message type. */
const MALFORMED = Symbol.for('prism.kafka-plugin.malformed-request');

/**
 * grpc-js answers a request it cannot decode with INTERNAL ("Error deserializing request"), which tells the caller
 * nothing and looks like our fault. This wraps every method's decoder so that undecodable bytes reach our wrappers
 * as a marker, which they answer with INVALID_ARGUMENT naming the message type.
 */
export function lenientDecoding(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    const type = method.path;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes) as unknown;
        } catch (err) {
          return { [MALFORMED]: `request: expected a valid protobuf message for ${type}, got ${bytes.length} bytes that do not decode (${(err as Error).message})` };
        }
      },
    };
  }
  return out as ServiceDefinition;
}

/** Throws INVALID_ARGUMENT when the request is the marker of undecodable bytes. */
export function assertDecoded(request: unknown): void {
  if (request !== null && typeof request === 'object' && MALFORMED in request) {
    const message = (request as Record<symbol, string>)[MALFORMED]!;
    throw new PluginError('INVALID_ARGUMENT', `invalid request: ${message}`, { violations: [{ field: 'request', expected: 'a valid protobuf message' }] });
  }
}
