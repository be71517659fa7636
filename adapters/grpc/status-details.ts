import protobuf from 'protobufjs';
import type { PluginError } from '../../core/errors.ts';

/**
 * Rich error details (AIP-193): every gRPC error answer also carries a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer, which grpc-go's `status.FromError(err).Details()`, Python's
 * `grpc_status.rpc_status.from_call` and Java's `StatusProto.fromThrowable` decode into typed messages.
 */
export const statusDetailsKey = 'grpc-status-details-bin';

/** ErrorInfo.domain: names the service that produced the error, so `reason` values are ours. */
export const errorDomain = 'prism.kafka';

const typePrefix = 'type.googleapis.com/';

// The few google.rpc messages we send, with the field numbers of googleapis' google/rpc/status.proto and
// error_details.proto (the wire contract clients decode with).
const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } },
            },
            ErrorInfo: {
              fields: { reason: { type: 'string', id: 1 }, domain: { type: 'string', id: 2 }, metadata: { keyType: 'string', type: 'string', id: 3 } as protobuf.IMapField },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
            RequestInfo: { fields: { request_id: { type: 'string', id: 1 }, serving_data: { type: 'string', id: 2 } } },
            BadRequest: {
              fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: { FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } } },
            },
          },
        },
      },
    },
  },
});

const types = {
  status: root.lookupType('google.rpc.Status'),
  errorInfo: root.lookupType('google.rpc.ErrorInfo'),
  retryInfo: root.lookupType('google.rpc.RetryInfo'),
  requestInfo: root.lookupType('google.rpc.RequestInfo'),
  badRequest: root.lookupType('google.rpc.BadRequest'),
};

function any(type: protobuf.Type, value: Record<string, unknown>): { type_url: string; value: Uint8Array } {
  return { type_url: typePrefix + type.fullName.slice(1), value: type.encode(type.fromObject(value)).finish() };
}

/** Walks an error, its causes and the errors it aggregates (the Kafka client's MultipleErrors), depth-bounded. */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || typeof error !== 'object' || error === null) return;
  const e = error as Record<string, unknown>;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
  yield* chain(e.cause, depth + 1);
}

const positive = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;

/**
 * How long the caller should wait before retrying, when the error knows it: an explicit `retryDelayMs` on the error
 * or one of its causes, or the broker's quota throttle time (`throttleTimeMs` of a Kafka response in the chain).
 */
export function retryDelayMs(error: PluginError): number | undefined {
  if (!error.retryable && error.code !== 'RESOURCE_EXHAUSTED') return undefined;
  for (const e of chain(error)) {
    if (positive(e.retryDelayMs)) return e.retryDelayMs;
    const response = e.response as Record<string, unknown> | undefined;
    if (typeof response === 'object' && response !== null && positive(response.throttleTimeMs)) return response.throttleTimeMs;
  }
  return undefined;
}

/**
 * The `google.rpc.Status` of an error answer, encoded. `code` and `message` must be the gRPC status and message sent
 * with it (grpc-go rejects details whose code differs). Details: ErrorInfo (our code as reason, `retryable`),
 * RequestInfo (the id to find the log lines), BadRequest for field violations, RetryInfo when a delay is known.
 */
export function encodeStatusDetails(error: PluginError, code: number, message: string, requestId: string): Buffer {
  const details = [
    any(types.errorInfo, { reason: error.code, domain: errorDomain, metadata: { retryable: String(error.retryable) } }),
    any(types.requestInfo, { request_id: requestId }),
  ];
  if (error.violations.length > 0) {
    const fieldViolations = error.violations.map((v) => ({
      field: v.field,
      description: v.got === undefined ? `expected ${v.expected}` : `expected ${v.expected}, got ${v.got}`,
    }));
    details.push(any(types.badRequest, { field_violations: fieldViolations }));
  }
  const delay = retryDelayMs(error);
  if (delay !== undefined) {
    const ms = Math.ceil(delay);
    details.push(any(types.retryInfo, { retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }));
  }
  return Buffer.from(types.status.encode(types.status.fromObject({ code, message, details })).finish());
}
