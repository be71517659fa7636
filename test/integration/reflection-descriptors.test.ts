import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compileWithBuf, decodeFile } from '../support/compiled-protos.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';
import { reflect } from '../support/reflection-client.ts';

const services = [
  'prism.interfaces.LifecycleInterface',
  'prism.interfaces.pubsub.PubSubBasicInterface',
  'prism.interfaces.queue.QueueBasicInterface',
  'prism.interfaces.stream.StreamBasicInterface',
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

let plugin: TestPlugin;
let compiled: Map<string, Buffer>;

beforeAll(async () => {
  compiled = compileWithBuf(join(inject('toolsBin'), 'buf'));
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: 'reflection-descriptors' });
});
afterAll(() => plugin.close());

/** The file and everything it imports, transitively, by the compiler's own dependency lists. */
function closure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const dep of (decodeFile(compiled.get(name)!).dependency as string[] | undefined) ?? []) closure(dep, seen);
  return seen;
}

/** The served files for one symbol, by name, failing with the server's error when it has none. */
async function servedFor(symbol: string, version: 'v1' | 'v1alpha' = 'v1'): Promise<Map<string, Buffer>> {
  const [res] = await reflect(plugin.address, [{ file_containing_symbol: symbol }], version);
  expect(res?.error_response, `reflection error for ${symbol}`).toBeUndefined();
  return new Map(res!.file_descriptor_response!.file_descriptor_proto.map((b) => [decodeFile(b).name as string, b]));
}

describe('server reflection serves the compiler\'s descriptors', () => {
  it('lists exactly the services the server registered (not ProxyControlPlane, which the proxy serves)', async () => {
    const [res] = await reflect(plugin.address, [{ list_services: '' }]);
    expect(res!.list_services_response!.service.map((s) => s.name).sort()).toEqual([...services].sort());
  });

  it.each(services)('%s: every file (with every import) byte for byte as buf compiled it', async (service) => {
    const served = await servedFor(service);
    const declaring = [...served.keys()][0]!;
    expect(decodeFile(compiled.get(declaring)!).service).toEqual(expect.arrayContaining([expect.objectContaining({ name: service.split('.').at(-1) })]));
    expect([...served.keys()].sort()).toEqual([...closure(declaring)].sort());
    for (const [name, bytes] of served) {
      // Decoded first, so a difference reads as a field; then the bytes themselves.
      expect(decodeFile(bytes), name).toEqual(decodeFile(compiled.get(name)!));
      expect(bytes.equals(compiled.get(name)!), `${name} bytes`).toBe(true);
    }
  });

  it('serves the same bytes over v1alpha and by file name (well-known imports included)', async () => {
    const alpha = await servedFor('prism.interfaces.LifecycleInterface', 'v1alpha');
    expect([...alpha.keys()]).toContain('google/protobuf/struct.proto');
    const [byName] = await reflect(plugin.address, [{ file_by_filename: 'google/protobuf/struct.proto' }]);
    expect(byName!.file_descriptor_response!.file_descriptor_proto[0]!.equals(compiled.get('google/protobuf/struct.proto')!)).toBe(true);
    for (const [name, bytes] of alpha) expect(bytes.equals(compiled.get(name)!), name).toBe(true);
  });

  it('carries what users missed: map entries named *Entry, proto3 JSON names, proto3 optional', async () => {
    const stream = decodeFile((await servedFor('prism.interfaces.stream.TailRequest')).get('prism/interfaces/stream/stream_basic.proto')!);
    const messages = stream.messageType as { name: string; field: { name: string; jsonName: string; typeName?: string; proto3Optional?: boolean }[]; nestedType?: { name: string }[] }[];
    const tail = messages.find((m) => m.name === 'TailRequest')!;
    expect(tail.field.find((f) => f.name === 'start_offsets')).toMatchObject({ jsonName: 'startOffsets', typeName: '.prism.interfaces.stream.TailRequest.StartOffsetsEntry' });
    expect(tail.nestedType?.map((n) => n.name)).toContain('StartOffsetsEntry');
    expect(messages.find((m) => m.name === 'AppendRequest')!.field.find((f) => f.name === 'partition')).toMatchObject({ proto3Optional: true });
    const pubsub = decodeFile((await servedFor('prism.interfaces.pubsub.PublishResponse')).get('prism/interfaces/pubsub/pubsub_basic.proto')!);
    const publish = (pubsub.messageType as { name: string; field: { name: string; jsonName: string }[] }[]).find((m) => m.name === 'PublishResponse')!;
    expect(publish.field.find((f) => f.name === 'message_id')!.jsonName).toBe('messageId');
  });

  it('answers NOT_FOUND for a symbol no file declares', async () => {
    const [res] = await reflect(plugin.address, [{ file_containing_symbol: 'prism.interfaces.NoSuchThing' }]);
    expect(res!.error_response).toMatchObject({ error_code: 5 });
  });
});
