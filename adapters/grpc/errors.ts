import type { ServiceError } from '@grpc/grpc-js';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { errorTable } from '../../core/error-table.ts';
import { callerMessage } from '../../core/call-outcome.ts';
import type { PluginError } from '../../core/errors.ts';
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
