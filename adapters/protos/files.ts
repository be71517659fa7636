import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The proto directory: dist/proto beside the bundle, or the repository's proto/ when running from source. */
export const protoDir = [join(here, 'proto'), join(here, '..', '..', 'proto')].find((p) => existsSync(join(p, 'prism'))) ?? join(here, 'proto');

/** Our proto files, relative to the proto directory (the paths Initialize's metadata declares). */
export const protoFiles = {
  lifecycle: 'prism/interfaces/lifecycle.proto',
  pubsub: 'prism/interfaces/pubsub/pubsub_basic.proto',
  queue: 'prism/interfaces/queue/queue_basic.proto',
  stream: 'prism/interfaces/stream/stream_basic.proto',
  /** Function mode's bounded Tail and Consume. */
  functionBatch: 'prism/function/function_batch.proto',
  /** The proxy's service, which callback mode dials as a client. */
  controlPlane: 'prism/interfaces/proxy_control_plane.proto',
} as const;

/** The files the gRPC server's services come from (health is the standard one, below). */
export const servedProtos = [protoFiles.lifecycle, protoFiles.pubsub, protoFiles.queue, protoFiles.stream] as const;

/** What the function adapter speaks: the gRPC messages plus its bounded Tail and Consume. */
export const functionProtos = [protoFiles.queue, protoFiles.stream, protoFiles.lifecycle, protoFiles.functionBatch] as const;

/** grpc.health.v1 and grpc.reflection v1/v1alpha, by canonical path. */
export const healthProto = 'grpc/health/v1/health.proto';
export const reflectionProtos = { v1: 'grpc/reflection/v1/reflection.proto', v1alpha: 'grpc/reflection/v1alpha/reflection.proto' } as const;

/**
 * Standard protos served beside ours: canonical path (what grpc-go serves them as) → the file in node_modules.
 * build.mjs copies them to dist/proto/<canonical path>; build-descriptors.mjs compiles them into the reflection set.
 */
export const standardProtos = {
  [healthProto]: 'grpc-health-check/proto/health/v1/health.proto',
  [reflectionProtos.v1]: '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
  [reflectionProtos.v1alpha]: '@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto',
} as const;

/** Where an import path (ours or a standard one) is read from. */
export function protoPath(target: string): string {
  const shipped = join(protoDir, target);
  const standard = (standardProtos as Record<string, string>)[target];
  if (standard === undefined || existsSync(shipped)) return shipped;
  return join(here, '..', '..', 'node_modules', standard);
}

/** Hex SHA-256 of a shipped proto file, as InterfaceDeclaration.proto_hash wants it. */
export function protoHash(relativePath: string): string {
  return createHash('sha256').update(readFileSync(join(protoDir, relativePath))).digest('hex');
}
