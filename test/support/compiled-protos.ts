import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** google/protobuf/descriptor.proto in full (json_name, proto3_optional, editions), for readable comparisons. */
const descriptorRoot = protobuf.loadSync(join(root, 'node_modules/protobufjs/google/protobuf/descriptor.proto'));
const FileDescriptorProto = descriptorRoot.lookupType('google.protobuf.FileDescriptorProto');

/** A FileDescriptorProto as a plain object: every field, 64-bit numbers and enums as strings. */
export function decodeFile(bytes: Uint8Array): Record<string, unknown> {
  return FileDescriptorProto.toObject(FileDescriptorProto.decode(bytes), { longs: String, enums: String, bytes: String });
}

/** Splits a FileDescriptorSet into file name → the file's raw bytes. */
function splitSet(set: Uint8Array): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const reader = protobuf.Reader.create(set);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skipType(tag & 7);
      continue;
    }
    const bytes = Buffer.from(reader.bytes());
    files.set(decodeFile(bytes).name as string, bytes);
  }
  return files;
}

/**
 * Compiles, with buf itself, proto/ and the standard protos the server also describes (health, reflection, under
 * their canonical paths): what reflection must serve byte for byte. Independent of build-descriptors.mjs on purpose.
 */
export function compileWithBuf(buf: string): Map<string, Buffer> {
  const work = mkdtempSync(join(tmpdir(), 'prism-compiled-'));
  try {
    const extras: Record<string, string> = {
      'grpc/health/v1/health.proto': 'node_modules/grpc-health-check/proto/health/v1/health.proto',
      'grpc/reflection/v1/reflection.proto': 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
      'grpc/reflection/v1alpha/reflection.proto': 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto',
    };
    for (const [name, file] of Object.entries(extras)) {
      mkdirSync(dirname(join(work, 'extras', name)), { recursive: true });
      cpSync(join(root, file), join(work, 'extras', name));
    }
    const files = new Map<string, Buffer>();
    for (const [input, out] of [[join(root, 'proto'), 'ours.binpb'], [join(work, 'extras'), 'extras.binpb']] as const) {
      execFileSync(buf, ['build', input, '--as-file-descriptor-set', '--exclude-source-info', '-o', join(work, out)], { stdio: ['ignore', 'ignore', 'inherit'] });
      for (const [name, bytes] of splitSet(readFileSync(join(work, out)))) files.set(name, bytes);
    }
    return files;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
