import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../../core/errors.ts';
import { classifyKafkaError, hasKafkaError } from '../../../../core/kafka/classify.ts';

describe('classifyKafkaError', () => {
  it.each([
    ['a network error', new NetworkError('Connection refused'), 'UNAVAILABLE'],
    ['a timeout', new TimeoutError('Request timed out'), 'UNAVAILABLE'],
    ['an authentication error', new AuthenticationError('bad creds'), 'UNAUTHENTICATED'],
    ['SASL_AUTHENTICATION_FAILED', new ProtocolError('SASL_AUTHENTICATION_FAILED'), 'UNAUTHENTICATED'],
    ['TOPIC_AUTHORIZATION_FAILED', new ProtocolError('TOPIC_AUTHORIZATION_FAILED'), 'PERMISSION_DENIED'],
    ['MESSAGE_TOO_LARGE', new ProtocolError('MESSAGE_TOO_LARGE'), 'INVALID_ARGUMENT'],
    ['UNKNOWN_TOPIC_OR_PARTITION', new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION'), 'NOT_FOUND'],
    ['TOPIC_ALREADY_EXISTS', new ProtocolError('TOPIC_ALREADY_EXISTS'), 'ALREADY_EXISTS'],
    ['NOT_ENOUGH_REPLICAS', new ProtocolError('NOT_ENOUGH_REPLICAS'), 'UNAVAILABLE'],
    ['an unknown error', new Error('boom'), 'INTERNAL'],
    ['the client\'s missing-topic error', new UserError('Unknown topic orders.'), 'NOT_FOUND'],
    // A killed leader still named by cached metadata: a broker outage, never the caller's fault.
    ['a leader missing from the metadata', new MultipleErrors('fetch failed', [new UserError('Cannot find broker with node id 2')]), 'UNAVAILABLE'],
    ['another client user error', new UserError('Failed to serialize a message.'), 'INVALID_ARGUMENT'],
  ])('%s → %s', (_name, error, code) => {
    expect(classifyKafkaError(error, 'produce').code).toBe(code);
  });

  it('names a refused certificate as TLS, whatever the client wrapped it in', () => {
    const cert = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const error = classifyKafkaError(new NetworkError('Connection to 127.0.0.1:9094 failed.', { cause: cert }), 'produce');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe('produce failed: TLS handshake failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
  });

  it('finds the cause deep in a chain', () => {
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: new ProtocolError('TOPIC_AUTHORIZATION_FAILED') }) });
    expect(classifyKafkaError(wrapped, 'produce').code).toBe('PERMISSION_DENIED');
  });

  it('prefers the most specific error among aggregated ones', () => {
    const many = new MultipleErrors('several', [new NetworkError('reset'), new ProtocolError('SASL_AUTHENTICATION_FAILED')]);
    const e = classifyKafkaError(many, 'metadata');
    expect(e.code).toBe('UNAUTHENTICATED');
    expect(e.message).toBe('metadata failed: SASL_AUTHENTICATION_FAILED');
  });

  it('finds a protocol error by name inside nested aggregates (admin offset commit on an active group)', () => {
    const nested = new MultipleErrors('Altering consumer group offsets failed.', [new MultipleErrors('OffsetCommit failed', [new ProtocolError('UNKNOWN_MEMBER_ID')])]);
    expect(hasKafkaError(nested, ['UNKNOWN_MEMBER_ID'])).toBe(true);
    expect(hasKafkaError(nested, ['NOT_COORDINATOR'])).toBe(false);
    expect(classifyKafkaError(nested, 'seek').code).toBe('FAILED_PRECONDITION');
  });

  it('passes plugin errors through unchanged', () => {
    const original = new PluginError('INVALID_ARGUMENT', 'x');
    expect(classifyKafkaError(original, 'produce')).toBe(original);
  });
});
