import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeResponse } from '../../../../adapters/function/proto-json.ts';
import { functionProtos } from '../../../../adapters/protos/files.ts';
import { protoRoot } from '../../../../adapters/protos/root.ts';
import { servedDefinitions } from '../../../../adapters/protos/services.ts';
import { isPluginError, type PluginError } from '../../../../core/errors.ts';

const types = protoRoot(functionProtos);
const type = (name: string) => types.lookupType(name);
const grpc = servedDefinitions();

/** What grpc-js hands a handler for these bytes: the gRPC adapter's own deserializer. */
function asGrpcDecodes(service: string, method: string, wire: Uint8Array): unknown {
  return grpc[service]![method]!.requestDeserialize(Buffer.from(wire));
}

function refused(fn: () => unknown): PluginError {
  try {
    fn();
  } catch (err) {
    if (isPluginError(err)) return err;
    throw err;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('proto3 JSON → handler request', () => {
  it('gives a handler exactly what the gRPC adapter gives it for the same message', () => {
    const json = { topic: 'orders', payload: Buffer.from('héllo').toString('base64'), metadata: { a: '1' }, key: 'a2V5', partition: 0, messageId: 'm-1' };
    const decoded = decodeRequest(type('prism.interfaces.queue.PublishRequest'), json);
    const T = type('prism.interfaces.queue.PublishRequest');
    const wire = T.encode(T.fromObject({ topic: 'orders', payload: Buffer.from('héllo'), metadata: { a: '1' }, key: Buffer.from('key'), partition: 0, message_id: 'm-1' })).finish();
    expect(decoded).toEqual(asGrpcDecodes('prism.interfaces.queue.QueueBasicInterface', 'Publish', wire));
    expect(decoded.payload).toEqual(Buffer.from('héllo'));
    expect(decoded.partition).toBe(0);
  });

  it('accepts lowerCamelCase and original names, and fills proto3 defaults as gRPC does', () => {
    const camel = decodeRequest(type('prism.interfaces.stream.TailRequest'), { topic: 't', startOffsets: { 0: '5' }, tagFilter: { k: 'v' } });
    const snake = decodeRequest(type('prism.interfaces.stream.TailRequest'), { topic: 't', start_offsets: { 0: 5 }, tag_filter: { k: 'v' } });
    expect(camel).toEqual(snake);
    expect(camel).toMatchObject({ topic: 't', start: '', start_time: '0', cursor: '', start_offsets: { 0: '5' } });
    expect(camel).not.toHaveProperty('key_filter');
  });

  it('keeps 64-bit integers exact as strings, and takes safe numbers too', () => {
    const max = decodeRequest(type('prism.interfaces.queue.SeekRequest'), { topic: 't', timestamp: '9223372036854775807' });
    expect(max.timestamp).toBe('9223372036854775807');
    expect(decodeRequest(type('prism.interfaces.stream.AppendRequest'), { topic: 't', eventTime: 1_700_000_000_000 }).event_time).toBe('1700000000000');
  });

  it('reads bytes in standard and URL-safe base64, padded or not', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')]) {
      expect(decodeRequest(type('prism.interfaces.queue.PublishRequest'), { topic: 't', payload: text }).payload).toEqual(bytes);
    }
  });

  it('treats null as the default and an absent request as an empty message', () => {
    expect(decodeRequest(type('prism.interfaces.queue.PublishRequest'), { topic: 't', payload: null, key: null }).payload).toEqual(Buffer.alloc(0));
    expect(decodeRequest(type('prism.interfaces.HealthCheckRequest'), undefined)).toEqual({});
  });

  it('keeps oneof and proto3 optional presence as gRPC does', () => {
    const seek = decodeRequest(type('prism.interfaces.queue.SeekRequest'), { topic: 't', offsets: { offsets: { 1: '7' } } });
    expect(seek).toMatchObject({ position: 'offsets', offsets: { offsets: { 1: '7' } } });
    const explicitZero = decodeRequest(type('prism.interfaces.queue.PublishRequest'), { topic: 't', partition: 0 });
    expect(explicitZero.partition).toBe(0);
    expect(decodeRequest(type('prism.interfaces.queue.PublishRequest'), { topic: 't' })).not.toHaveProperty('partition');
  });

  it('refuses wrong JSON types, unknown fields and duplicates, naming every field at once', () => {
    const error = refused(() => decodeRequest(type('prism.interfaces.queue.PublishBatchRequest'), {
      messages: [{ topic: 5, payload: 'not base64!', partition: 1.5, metadata: { a: 1 } }, { topic: 't', paylod: 'eA==' }],
      extra: true,
    }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.violations.map((v) => v.field)).toEqual([
      'messages[0].topic', 'messages[0].payload', 'messages[0].partition', 'messages[0].metadata.a', 'messages[1].paylod', 'extra',
    ]);
    expect(error.message).toContain('messages[0].payload: expected bytes as a base64 string, got "not base64!"');
    expect(error.message).toContain('extra: expected a field of PublishBatchRequest (messages), got an unknown field');
    const twice = refused(() => decodeRequest(type('prism.interfaces.queue.PublishRequest'), { topic: 't', message_id: 'a', messageId: 'b' }));
    expect(twice.message).toContain('message_id: expected the field once, got both message_id and messageId');
  });

  it('refuses out-of-range integers, numbers past 2^53, bad map keys and non-objects', () => {
    const error = refused(() => decodeRequest(type('prism.interfaces.stream.TailRequest'), { topic: 't', start_offsets: { x: '1', 2: '-1' }, start_time: 2 ** 60 }));
    expect(error.violations.map((v) => v.field)).toEqual(['start_offsets.x', 'start_time']);
    expect(refused(() => decodeRequest(type('prism.interfaces.queue.ConsumeRequest'), { topic: 't', max_unacked: 2 ** 31 })).violations[0]!.field).toBe('max_unacked');
    expect(refused(() => decodeRequest(type('prism.interfaces.queue.PublishRequest'), [1, 2])).violations[0]).toMatchObject({ field: 'request', expected: 'a JSON object (PublishRequest)' });
    expect(refused(() => decodeRequest(type('prism.interfaces.queue.AckRequest'), { receipts: 'r1' })).violations[0]).toMatchObject({ field: 'receipts', expected: 'a JSON array' });
  });
});

describe('handler result → proto3 JSON', () => {
  it('uses lowerCamelCase names, int64 as strings, bytes as base64, and emits defaults', () => {
    const json = encodeResponse(type('prism.interfaces.stream.QueryResponse'), {
      events: [{ topic: 't', partition: 0, offset: '9223372036854775807', timestamp: 1_700_000_000_000, key: Buffer.alloc(0), payload: Buffer.from('p'), tags: { a: 'b' }, cursor: '' }],
      next_cursor: 'c',
    });
    expect(json).toEqual({
      events: [{ topic: 't', partition: 0, offset: '9223372036854775807', timestamp: '1700000000000', key: '', payload: 'cA==', tags: { a: 'b' }, cursor: '' }],
      nextCursor: 'c',
    });
  });

  it('renames inside nested and repeated messages; an unset message field is null', () => {
    const json = encodeResponse(type('prism.interfaces.queue.PublishBatchResponse'), {
      results: [{ index: 0, success: false, error_code: 'UNAVAILABLE', error: 'down' }],
    });
    expect(json).toEqual({ results: [{ index: 0, success: false, result: null, errorCode: 'UNAVAILABLE', error: 'down' }] });
    expect(encodeResponse(type('prism.interfaces.HealthCheckResponse'), { status: 'HEALTH_STATUS_HEALTHY', message: 'ok', details: {} }))
      .toEqual({ status: 'HEALTH_STATUS_HEALTHY', message: 'ok', details: {} });
  });

  it('round-trips: an answer read back as a request of the same type gives the same message', () => {
    const T = type('prism.interfaces.queue.QueueMessage');
    const result = { message_id: 'm', topic: 't', partition: 2, offset: '5', payload: Buffer.from([0, 255]), metadata: { k: 'v' }, key: Buffer.from('k'), timestamp: 1, attempt: 1, receipt: 'r', subscription_id: 's' };
    expect(decodeRequest(T, encodeResponse(T, result))).toEqual({ ...result, timestamp: '1' });
  });
});

describe('function-only messages', () => {
  it('keep every field of their gRPC counterparts under the same number and type, so those payloads work unchanged', () => {
    for (const [batch, grpcType] of [['prism.function.TailBatchRequest', 'prism.interfaces.stream.TailRequest'], ['prism.function.ConsumeBatchRequest', 'prism.interfaces.queue.ConsumeRequest']] as const) {
      for (const field of type(grpcType).fieldsArray) {
        const same = type(batch).fields[field.name];
        expect(same, `${batch}.${field.name}`).toBeDefined();
        expect([same!.id, same!.type, same!.repeated, same!.map]).toEqual([field.id, field.type, field.repeated, field.map]);
      }
    }
  });
});
