import type { ServiceError } from '@grpc/grpc-js';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { errorTable } from '../../core/error-table.ts';
import { callerMessage } from '../../core/call/outcome.ts';
import type { CallScope } from '../../core/call/pipeline.ts';
import { PluginError } from '../../core/errors.ts';
import type { ProcessScope } from '../../core/process-scope.ts';
import { encodeStatusDetails, statusDetailsKey } from './status-details.ts';

/** A PluginError → the gRPC error sent to the caller, through the one error table. */
export function toServiceError(error: PluginError, requestId: string): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('x-request-id', requestId);
  metadata.set('x-prism-error-code', error.code);
  if (error.retryable) metadata.set('x-prism-retryable', 'true');
  const code = errorTable[error.code].grpc;
  // Internal details stay in our log; the caller gets the request id to find them.
  const details = callerMessage(error, requestId);
  // The same answer as typed google.rpc details, for clients that read them (unary and streams alike come here).
  metadata.set(statusDetailsKey, encodeStatusDetails(error, code, details, requestId));
  return { code, details, metadata };
}

export const statusName = (code: number): string => grpcStatus[code] ?? String(code);

/** The pipeline's scope for gRPC calls: outcomes labelled with the gRPC status name the caller received. */
export function grpcCallScope(scope: ProcessScope): CallScope {
  return {
    log: scope.log, metrics: scope.metrics, statusOf: (error) => statusName(error === undefined ? 0 : errorTable[error.code].grpc),
    // Absent, not undefined, when tracing is off: the pipeline then builds nothing for it.
    ...(scope.tracing === undefined ? {} : { tracing: scope.tracing }),
  };
}

/** A data call arriving while the plugin drains: retry elsewhere. */
export const draining = () => new PluginError('UNAVAILABLE', 'the plugin is draining and accepts no new requests', { retryable: true });

/** The reason a call's signal fires when its caller went away. */
export const cancelledByCaller = () => new PluginError('CANCELLED', 'cancelled by the caller');
