import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlPlaneService } from '../../../../adapters/grpc/callback/proto.ts';
import { healthProto, protoDir, protoFiles, protoHash, protoPath, servedProtos, standardProtos } from '../../../../adapters/protos/files.ts';
import { protoRoot } from '../../../../adapters/protos/root.ts';
import { servedDefinitions, serviceDefinitions } from '../../../../adapters/protos/services.ts';

type Method = MethodDefinition<object, object>;

// The reference: @grpc/proto-loader, which built the served codecs before adapters/protos/ did, with its options then.
const reference = protoLoader.loadSync([...servedProtos, protoPath(healthProto)], {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoDir],
});
/** proto-loader's services (its other entries are message types, which carry a `format`). */
const referenceServices = Object.keys(reference).filter((k) => !('format' in reference[k]!));
const ours = servedDefinitions();
const refMethod = (service: string, method: string) => (reference[service] as Record<string, Method>)[method]!;
const ourMethod = (service: string, method: string) => ours[service]![method] as Method;

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
const text = fc.string({ unit: 'grapheme', maxLength: 20 });

/** Requests with every kind of field the hot and the streaming paths carry: int64, bytes, maps, optional, oneof-free. */
const samples: Array<[service: string, method: string, value: fc.Arbitrary<object>]> = [
  ['prism.interfaces.queue.QueueBasicInterface', 'Publish', fc.record({ topic: text, payload: bytes, key: bytes, metadata: fc.dictionary(text, text, { maxKeys: 3 }), message_id: text, partition: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }) }, { requiredKeys: ['topic'] })],
  ['prism.interfaces.stream.StreamBasicInterface', 'Tail', fc.record({ topic: text, start_offsets: fc.dictionary(fc.integer({ min: 0, max: 99 }).map(String), int64, { maxKeys: 3 }), tag_filter: fc.dictionary(text, text, { maxKeys: 2 }) }, { requiredKeys: ['topic'] })],
  ['prism.interfaces.stream.StreamBasicInterface', 'Query', fc.record({ topic: text, start_offset: int64, end_offset: int64, limit: fc.integer({ min: 0, max: 10_000 }) }, { requiredKeys: [] })],
];

describe('adapters/protos: the one proto root', () => {
  it('serves the same services with the same method shapes as @grpc/proto-loader', () => {
    for (const [service, methods] of Object.entries(ours)) {
      const ref = reference[service] as Record<string, Method>;
      expect(Object.keys(methods).sort(), service).toEqual(Object.keys(ref).filter((k) => !['format', 'type', 'fileDescriptorProtos'].includes(k)).sort());
      for (const [name, m] of Object.entries(methods)) {
        const r = ref[name]!;
        expect({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, originalName: m.originalName })
          .toEqual({ path: r.path, requestStream: r.requestStream, responseStream: r.responseStream, originalName: r.originalName });
      }
    }
    expect(Object.keys(ours).sort()).toEqual(referenceServices.sort());
  });

  it('encodes and decodes messages byte for byte and field for field as proto-loader does', () => {
    for (const [service, method, value] of samples) {
      fc.assert(fc.property(value, (request) => {
        const wire = ourMethod(service, method).requestSerialize(request);
        expect(wire.equals(refMethod(service, method).requestSerialize(request))).toBe(true);
        expect(ourMethod(service, method).requestDeserialize(wire)).toEqual(refMethod(service, method).requestDeserialize(wire));
      }), { numRuns: 200 });
    }
  });

  it('decodes a oneof by naming its set member, and Struct values as proto-loader does', () => {
    const init = { name: 'kafka', version: '1', config: { fields: { topic: { stringValue: 'x' }, n: { numberValue: 3 }, on: { boolValue: true } } } };
    const m = ourMethod('prism.interfaces.LifecycleInterface', 'Initialize');
    const wire = m.requestSerialize(init);
    expect(m.requestDeserialize(wire)).toEqual(refMethod('prism.interfaces.LifecycleInterface', 'Initialize').requestDeserialize(wire));
    expect((m.requestDeserialize(wire) as { config: { fields: { topic: { kind: string } } } }).config.fields.topic.kind).toBe('stringValue');
  });

  it('refuses an array where a message is expected, as proto-loader does', () => {
    const m = ourMethod('prism.interfaces.queue.QueueBasicInterface', 'Publish');
    expect(() => m.requestSerialize([])).toThrow(/expected object with PublishRequest structure, got array/);
  });

  it('reads each file once and keeps one root for every runtime', () => {
    const root = protoRoot(servedProtos);
    const before = [...root.files];
    expect(protoRoot([protoFiles.queue, healthProto])).toBe(root);
    expect(root.files).toEqual(before);
    expect(new Set(root.files).size).toBe(root.files.length);
  });

  it("lists only the asked files' services: the control plane (loaded for callback mode) is not served", () => {
    controlPlaneService();
    expect(protoRoot([]).lookupService('prism.interfaces.ProxyControlPlane')).toBeDefined();
    expect(Object.keys(servedDefinitions())).not.toContain('prism.interfaces.ProxyControlPlane');
    expect(Object.keys(serviceDefinitions([protoFiles.controlPlane]))).toEqual(['prism.interfaces.ProxyControlPlane']);
  });
});

describe('adapters/protos: files', () => {
  it('finds the standard protos (beside the bundle, or in node_modules from source)', () => {
    for (const canonical of Object.keys(standardProtos)) expect(existsSync(protoPath(canonical)), canonical).toBe(true);
    expect(protoPath(protoFiles.queue)).toBe(`${protoDir}/${protoFiles.queue}`);
  });

  it('hashes a shipped proto as InterfaceDeclaration.proto_hash wants it (hex SHA-256 of the file)', () => {
    const expected = createHash('sha256').update(readFileSync(`${protoDir}/${protoFiles.queue}`)).digest('hex');
    expect(protoHash(protoFiles.queue)).toBe(expected);
    expect(protoHash(protoFiles.queue)).toMatch(/^[0-9a-f]{64}$/);
  });
});
