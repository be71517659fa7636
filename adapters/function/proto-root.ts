import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The proto root: dist/proto beside the bundle, or the repository's proto/ when running from source. */
const protoRoot = [join(here, 'proto'), join(here, '..', '..', 'proto')].find((p) => existsSync(join(p, 'prism'))) ?? join(here, 'proto');

/** The gRPC adapter's proto files: the function adapter speaks the same messages. */
const protoFiles = [
  'prism/interfaces/queue/queue_basic.proto',
  'prism/interfaces/stream/stream_basic.proto',
  'prism/interfaces/lifecycle.proto',
  // Function mode's bounded Tail and Consume (TailBatchRequest, ConsumeBatchRequest and their answers).
  'prism/function/function_batch.proto',
];

let loaded: protobuf.Root | undefined;

/** Loads the proto files once per process (keepCase: field names as written, as the gRPC adapter loads them). */
export function protoTypes(): protobuf.Root {
  if (loaded !== undefined) return loaded;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoRoot, target);
  root.loadSync(protoFiles, { keepCase: true });
  root.resolveAll();
  loaded = root;
  return root;
}
