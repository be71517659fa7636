import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { invalidArgument, PluginError } from '../../../../core/errors.ts';
import { toServiceError } from '../../../../adapters/grpc/errors.ts';
import { encodeStatusDetails, retryDelayMs, statusDetailsKey } from '../../../../adapters/grpc/status-details.ts';

// Decoded with definitions written from googleapis' .proto files, not with the encoder's own.
const root = new protobuf.Root().loadSync(fileURLToPath(new URL('../../../fixtures/proto/google/rpc/status.proto', import.meta.url)), { keepCase: true });
const toObject = { longs: Number, defaults: true };

interface Decoded {
  code: number;
  message: string;
  details: Record<string, Record<string, unknown>>;
}

function decode(bytes: Uint8Array): Decoded {
  const status = root.lookupType('google.rpc.Status').toObject(root.lookupType('google.rpc.Status').decode(bytes), toObject) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const details: Decoded['details'] = {};
  for (const d of status.details) {
    const name = d.type_url.replace(/^type\.googleapis\.com\//, '');
    expect(d.type_url, 'type URL prefix').toBe(`type.googleapis.com/${name}`);
    const type = root.lookupType(name);
    details[name] = type.toObject(type.decode(d.value), toObject);
  }
  return { code: status.code, message: status.message, details };
}

describe('google.rpc.Status in grpc-status-details-bin', () => {
  it('INVALID_ARGUMENT carries BadRequest field violations, ErrorInfo and RequestInfo', () => {
    const error = invalidArgument([
      { field: 'topic', expected: 'a Kafka topic name ([a-zA-Z0-9._-], 1–249 characters)', got: '"bad/topic"' },
      { field: 'metadata["k"]', expected: 'text in UTF-8' },
    ]);
    const decoded = decode(encodeStatusDetails(error, 3, error.message, 'req-1'));
    expect(decoded).toEqual({
      code: 3,
      message: error.message,
      details: {
        'google.rpc.ErrorInfo': { reason: 'INVALID_ARGUMENT', domain: 'prism.kafka', metadata: { retryable: 'false' } },
        'google.rpc.RequestInfo': { request_id: 'req-1', serving_data: '' },
        'google.rpc.BadRequest': {
          field_violations: [
            { field: 'topic', description: 'expected a Kafka topic name ([a-zA-Z0-9._-], 1–249 characters), got "bad/topic"' },
            { field: 'metadata["k"]', description: 'expected text in UTF-8' },
          ],
        },
      },
    });
  });

  it('a retryable error with a known delay carries RetryInfo; without one, none', () => {
    const throttled = new PluginError('RESOURCE_EXHAUSTED', 'produce failed: THROTTLING_QUOTA_EXCEEDED', {
      // The Kafka client's shape: an aggregate whose protocol error carries the broker's response.
      cause: { message: 'Received response with error', errors: [{ apiId: 'THROTTLING_QUOTA_EXCEEDED', response: { throttleTimeMs: 1_250 } }] },
    });
    expect(decode(encodeStatusDetails(throttled, 8, throttled.message, 'r')).details['google.rpc.RetryInfo']).toEqual({ retry_delay: { seconds: 1, nanos: 250_000_000 } });

    const explicit = new PluginError('UNAVAILABLE', 'x', { cause: Object.assign(new Error('y'), { retryDelayMs: 300 }) });
    const decoded = decode(encodeStatusDetails(explicit, 14, 'x', 'r'));
    expect(decoded.details['google.rpc.RetryInfo']).toEqual({ retry_delay: { seconds: 0, nanos: 300_000_000 } });
    expect(decoded.details['google.rpc.ErrorInfo']).toMatchObject({ reason: 'UNAVAILABLE', metadata: { retryable: 'true' } });

    const unknownDelay = new PluginError('UNAVAILABLE', 'the plugin is draining', { retryable: true });
    expect(Object.keys(decode(encodeStatusDetails(unknownDelay, 14, 'd', 'r')).details).sort()).toEqual(['google.rpc.ErrorInfo', 'google.rpc.RequestInfo']);
  });

  it('no RetryInfo for an error that must not be retried, whatever its cause says', () => {
    const notRetryable = new PluginError('UNAVAILABLE', 'committing failed', { retryable: false, cause: { retryDelayMs: 100 } });
    expect(retryDelayMs(notRetryable)).toBeUndefined();
  });

  it('toServiceError attaches it with the same code and message the status line carries', () => {
    const internal = new PluginError('INTERNAL', 'broker 10.0.0.7 said no');
    const serviceError = toServiceError(internal, 'req-9');
    const [bytes] = serviceError.metadata!.get(statusDetailsKey);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    const decoded = decode(bytes as Buffer);
    expect({ code: decoded.code, message: decoded.message }).toEqual({ code: serviceError.code, message: serviceError.details });
    // Internal details stay in the log: the trailer is as generic as the message.
    expect(decoded.message).toBe('internal error (request req-9)');
    expect(JSON.stringify(decoded)).not.toContain('10.0.0.7');
    expect(decoded.details['google.rpc.ErrorInfo']).toEqual({ reason: 'INTERNAL', domain: 'prism.kafka', metadata: { retryable: 'false' } });
  });
});
