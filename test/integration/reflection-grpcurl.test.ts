import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compileWithBuf, decodeFile } from '../support/compiled-protos.ts';
import { kafkaAdmin } from '../support/kafka-admin.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const run = promisify(execFile);
const grpcurl = (...args: string[]) => run(join(inject('toolsBin'), 'grpcurl'), ['-plaintext', '-max-time', '20', ...args], { timeout: 30_000 });
const suffix = `${Date.now()}-${process.pid}`;
const topic = `reflection-grpcurl-${suffix}`;
const stream = `reflection-grpcurl-stream-${suffix}`;

let plugin: TestPlugin;
let compiled: Map<string, Buffer>;
const work = mkdtempSync(join(tmpdir(), 'prism-grpcurl-'));

beforeAll(async () => {
  compiled = compileWithBuf(join(inject('toolsBin'), 'buf'));
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: topic });
  plugin.runtime.start();
  await plugin.runtime.deps.health.probe();
});
afterAll(async () => {
  await plugin.close();
  rmSync(work, { recursive: true, force: true });
  const admin = kafkaAdmin(inject('kafkaBrokers'), { clientId: 'reflection-grpcurl-cleanup' });
  await admin.deleteTopics([topic, stream]).catch(() => undefined);
  await admin.close();
});

/** Splits a FileDescriptorSet written by grpcurl -protoset-out into file name → decoded file. */
function protoset(path: string): Map<string, Record<string, unknown>> {
  const files = new Map<string, Record<string, unknown>>();
  const reader = protobuf.Reader.create(readFileSync(path));
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) reader.skipType(tag & 7);
    else {
      const file = decodeFile(reader.bytes());
      files.set(file.name as string, file);
    }
  }
  return files;
}

// One method of each service, called by reflection alone with proto3 JSON (camelCase) names; `expect` holds
// camelCase keys of the answer, which grpcurl prints only when the served descriptors carry json_name.
const calls = [
  { service: 'prism.interfaces.LifecycleInterface', method: 'Initialize', data: { name: 'kafka', version: '0.1.0', config: { topic } }, expect: { success: true, metadata: { interfaces: expect.arrayContaining([expect.objectContaining({ protoFile: 'prism/interfaces/pubsub/pubsub_basic.proto', protoHash: expect.stringMatching(/^[0-9a-f]{64}$/) })]) } } },
  { service: 'prism.interfaces.pubsub.PubSubBasicInterface', method: 'Publish', data: { topic, payload: 'aGk=', metadata: { sequence: '1' } }, expect: { success: true, messageId: expect.any(String) } },
  { service: 'prism.interfaces.queue.QueueBasicInterface', method: 'Publish', data: { topic, payload: 'aGk=', messageId: `grpcurl-${suffix}` }, expect: { messageId: `grpcurl-${suffix}`, topic } },
  { service: 'prism.interfaces.stream.StreamBasicInterface', method: 'CreateStream', data: { topic: stream, partitions: 2, replicationFactor: 1, retentionMs: '3600000' }, expect: { topic: stream, partitions: 2, replicationFactor: 1, retentionMs: '3600000' } },
  { service: 'grpc.health.v1.Health', method: 'Check', data: { service: 'kafka' }, expect: { status: 'SERVING' } },
  { service: 'grpc.reflection.v1.ServerReflection', method: 'ServerReflectionInfo', data: { listServices: '' }, expect: { listServicesResponse: { service: expect.arrayContaining([{ name: 'grpc.health.v1.Health' }]) } } },
  { service: 'grpc.reflection.v1alpha.ServerReflection', method: 'ServerReflectionInfo', data: { fileContainingSymbol: 'grpc.health.v1.Health' }, expect: { fileDescriptorResponse: { fileDescriptorProto: [expect.any(String)] } } },
];

describe('grpcurl, by reflection alone', () => {
  it('lists every service the server registered', async () => {
    const { stdout } = await grpcurl(plugin.address, 'list');
    expect(stdout.trim().split('\n').sort()).toEqual(calls.map((c) => c.service).sort());
  });

  it.each(calls.map((c) => c.service))('describes %s, and -protoset-out writes the compiler\'s files', async (service) => {
    const out = join(work, `${service}.protoset`);
    const { stdout } = await grpcurl('-protoset-out', out, plugin.address, 'describe', service);
    expect(stdout).toContain(`${service} is a service:`);
    const written = protoset(out);
    expect(written.size).toBeGreaterThan(0);
    for (const [name, file] of written) expect(file, name).toEqual(decodeFile(compiled.get(name)!));
  });

  it('describes the stream request with its map field (the invalid map entry name users hit)', async () => {
    const { stdout } = await grpcurl(plugin.address, 'describe', 'prism.interfaces.stream.TailRequest');
    expect(stdout).toMatch(/map<int32, int64> start_offsets = 4;/);
  });

  it.each(calls)('calls $service/$method with camelCase JSON', async ({ service, method, data, expect: want }) => {
    const { stdout } = await grpcurl('-d', JSON.stringify(data), plugin.address, `${service}/${method}`);
    expect(JSON.parse(stdout)).toMatchObject(want);
  });
});
