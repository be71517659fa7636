import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { errorTable } from '../../../core/error-table.ts';
import { PluginError, errorCodes, isPluginError } from '../../../core/errors.ts';
import { toServiceError } from '../../../adapters/grpc/errors.ts';

describe('error table', () => {
  it.each(errorCodes)('%s maps to the gRPC status of the same name', (code) => {
    expect(errorTable[code].grpc).toBe(status[code]);
  });

  it.each([
    ['INVALID_ARGUMENT', 400], ['NOT_FOUND', 404], ['ALREADY_EXISTS', 409], ['FAILED_PRECONDITION', 412], ['UNAVAILABLE', 503],
    ['DEADLINE_EXCEEDED', 504], ['UNAUTHENTICATED', 401], ['PERMISSION_DENIED', 403], ['RESOURCE_EXHAUSTED', 429],
    ['CANCELLED', 499], ['INTERNAL', 500],
  ] as const)('%s maps to HTTP %i', (code, http) => {
    expect(errorTable[code].http).toBe(http);
  });

  it('hides internal details from the caller but keeps the request id', () => {
    const e = toServiceError(new PluginError('INTERNAL', 'broker 10.0.0.1 exploded'), 'req-1');
    expect(e.code).toBe(status.INTERNAL);
    expect(e.details).toBe('internal error (request req-1)');
    expect(e.metadata?.get('x-request-id')).toEqual(['req-1']);
  });

  it('shows an exposed error as is, with its code and retryability in metadata', () => {
    const e = toServiceError(new PluginError('UNAVAILABLE', 'brokers unreachable'), 'req-2');
    expect(e.details).toBe('brokers unreachable');
    expect(e.metadata?.get('x-prism-error-code')).toEqual(['UNAVAILABLE']);
    expect(e.metadata?.get('x-prism-retryable')).toEqual(['true']);
  });

  it('never carries an integer code grpc-js could mistake for a status', () => {
    const e = new PluginError('INVALID_ARGUMENT', 'x');
    expect(typeof e.code).toBe('string');
  });

  it('recognises plugin errors by brand, not only by class', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('prism.kafka-plugin.error')]: true });
    expect(isPluginError(foreign)).toBe(true);
    expect(isPluginError(new Error('x'))).toBe(false);
  });
});
