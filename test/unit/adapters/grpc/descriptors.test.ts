import { describe, expect, it } from 'vitest';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';
import { indexDescriptorSet } from '../../../../adapters/grpc/descriptors.ts';
import { answer } from '../../../../adapters/grpc/reflection-service.ts';

const { FileDescriptorProto } = descriptorExt as unknown as { FileDescriptorProto: { fromObject(o: unknown): object; encode(m: object): { finish(): Uint8Array } } };

/** Field 17 of FieldDescriptorProto (proto3_optional) is one protobufjs's schema lacks: a re-encode would drop it. */
const proto3Optional = Buffer.from([0x88, 0x01, 0x01]);
const file = (o: object, extra = Buffer.alloc(0)) => Buffer.concat([FileDescriptorProto.encode(FileDescriptorProto.fromObject(o)).finish(), extra]);
/** FileDescriptorSet field 1 (length-delimited), as a compiler writes it. */
const inSet = (bytes: Buffer) => Buffer.concat([Buffer.from([0x0a]), Buffer.from(varint(bytes.length)), bytes]);
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}

const wkt = file({ name: 'google/protobuf/struct.proto', package: 'google.protobuf', messageType: [{ name: 'Struct' }] });
const base = file({
  name: 'a/base.proto', package: 'a', dependency: ['google/protobuf/struct.proto'],
  messageType: [{ name: 'Config', field: [{ name: 'values', number: 1 }], nestedType: [{ name: 'ValuesEntry' }], enumType: [{ name: 'Kind', value: [{ name: 'KIND_UNSPECIFIED' }] }] }],
}, proto3Optional);
const svc = file({ name: 'a/svc.proto', package: 'a', dependency: ['a/base.proto'], service: [{ name: 'Svc', method: [{ name: 'Call' }] }] });
const index = indexDescriptorSet(Buffer.concat([svc, base, wkt].map(inSet)));

describe('indexDescriptorSet', () => {
  it('lists the services the set declares', () => {
    expect(index.services).toEqual(['a.Svc']);
  });

  it('serves a file with its imports, transitively, as the exact bytes of the set', () => {
    const served = index.fileWithImports('a/svc.proto')!;
    expect(served.map((b) => b.toString('hex'))).toEqual([svc, base, wkt].map((b) => b.toString('hex')));
    expect(served[1]!.subarray(-3)).toEqual(proto3Optional);
  });

  it('finds the file of services, methods, messages, nested types, fields, enums and enum values', () => {
    const of = (s: string) => index.fileOfSymbol(s);
    expect([of('a.Svc'), of('a.Svc.Call'), of('.a.Svc')]).toEqual(['a/svc.proto', 'a/svc.proto', 'a/svc.proto']);
    expect([of('a.Config'), of('a.Config.ValuesEntry'), of('a.Config.values'), of('a.Config.Kind'), of('a.Config.KIND_UNSPECIFIED')]).toEqual(Array(5).fill('a/base.proto'));
    expect([of('google.protobuf.Struct'), of('a.Nope'), of('a.Config.Kind.KIND_UNSPECIFIED')]).toEqual(['google/protobuf/struct.proto', undefined, undefined]);
  });
});

describe('reflection answers', () => {
  it('lists services, serves by symbol and file name, and answers NOT_FOUND (5) for unknown names', () => {
    expect(answer(index, { message_request: 'list_services', list_services: '' })).toEqual({ list_services_response: { service: [{ name: 'a.Svc' }] } });
    expect(answer(index, { message_request: 'file_containing_symbol', file_containing_symbol: 'a.Config' })).toEqual({ file_descriptor_response: { file_descriptor_proto: [base, wkt] } });
    expect(answer(index, { message_request: 'file_by_filename', file_by_filename: 'google/protobuf/struct.proto' })).toEqual({ file_descriptor_response: { file_descriptor_proto: [wkt] } });
    expect(answer(index, { message_request: 'file_containing_symbol', file_containing_symbol: 'a.Missing' })).toMatchObject({ error_response: { error_code: 5 } });
    expect(answer(index, { message_request: 'all_extension_numbers_of_type', all_extension_numbers_of_type: 'a.Config' })).toEqual({ all_extension_numbers_response: { base_type_name: 'a.Config', extension_number: [] } });
  });
});
