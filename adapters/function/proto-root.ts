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
];

/**
 * Messages that exist only in function mode, where a stream cannot stay open: Tail and Consume become bounded
 * calls. Each request keeps every field (and number) of its gRPC counterpart, so a TailRequest or ConsumeRequest
 * payload works unchanged; the new fields only bound the batch. Kept here as proto text, parsed into the same root,
 * so the bundle needs no extra file.
 */
const functionProto = `
syntax = "proto3";
package prism.function;
import "prism/interfaces/queue/queue_basic.proto";
import "prism/interfaces/stream/stream_basic.proto";

message TailBatchRequest {
  string topic = 1;
  string start = 2;
  int64 start_time = 3;
  map<int32, int64> start_offsets = 4;
  string cursor = 5;
  optional bytes key_filter = 6;
  map<string, string> tag_filter = 7;
  int32 max_events = 8;
  int32 max_wait_ms = 9;
}

message TailBatchResponse {
  repeated prism.interfaces.stream.StreamEvent events = 1;
  string cursor = 2;
}

message ConsumeBatchRequest {
  string topic = 1;
  string group = 2;
  string subscriber_id = 3;
  int32 max_unacked = 4;
  int32 max_messages = 5;
  int32 max_wait_ms = 6;
}

message ConsumeBatchResponse {
  repeated prism.interfaces.queue.QueueMessage messages = 1;
  string group = 2;
  map<int32, string> next_offsets = 3;
}
`;

let loaded: protobuf.Root | undefined;

/** Loads the proto files once per process (keepCase: field names as written, as the gRPC adapter loads them). */
export function protoTypes(): protobuf.Root {
  if (loaded !== undefined) return loaded;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoRoot, target);
  root.loadSync(protoFiles, { keepCase: true });
  protobuf.parse(functionProto, root, { keepCase: true });
  root.resolveAll();
  loaded = root;
  return root;
}
