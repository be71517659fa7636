import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

const here = dirname(fileURLToPath(import.meta.url));

/** The proto root: beside the bundle in dist/, or the repository's proto/ when running from source. */
export const protoRoot = [join(here, 'proto'), join(here, '..', '..', 'proto')].find((p) => existsSync(join(p, 'prism')))
  ?? join(here, 'proto');

/** Proto files we serve, relative to the proto root (the path Initialize's metadata declares). */
export const protoFiles = {
  lifecycle: 'prism/interfaces/lifecycle.proto',
  pubsub: 'prism/interfaces/pubsub/pubsub_basic.proto',
  queue: 'prism/interfaces/queue/queue_basic.proto',
  stream: 'prism/interfaces/stream/stream_basic.proto',
} as const;

/** proto-loader options shared by every service: field names as written, 64-bit numbers as strings. */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

/**
 * Loads our protos plus the standard health proto into one definition: the codecs of the services (and of the tests'
 * clients). Reflection does not describe these: it serves the set buf compiled at build time (descriptor-set.ts).
 */
export function loadDefinitions(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...Object.values(protoFiles), healthProtoPath], loaderOptions);
}

/** Hex SHA-256 of a shipped proto file, as InterfaceDeclaration.proto_hash wants it. */
export function protoHash(relativePath: string): string {
  return createHash('sha256').update(readFileSync(join(protoRoot, relativePath))).digest('hex');
}
