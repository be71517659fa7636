import protobuf from 'protobufjs';
import { protoPath } from './files.ts';

/**
 * The one place proto files are parsed: a single protobufjs Root per process, field names as written (keepCase).
 * Each runtime asks for the files it uses; a file already loaded is not read again, so the gRPC server, the strict
 * decoder, the function adapter and callback mode share the same types.
 */
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => protoPath(target);

export function protoRoot(files: readonly string[]): protobuf.Root {
  const missing = files.filter((f) => !root.files.includes(protoPath(f)));
  if (missing.length > 0) {
    root.loadSync(missing, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

/** How a message becomes an object, in both adapters: int64 as decimal strings, enums by name, defaults present,
 * the name of the set member of each oneof (what @grpc/proto-loader's `longs: String, enums: String, defaults: true,
 * oneofs: true` give). */
export const objectOptions: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };
