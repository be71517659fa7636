import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { healthProto, protoPath, servedProtos } from './files.ts';
import { objectOptions, protoRoot } from './root.ts';

/** grpc-js definitions by full service name, as grpc-js's loadPackageDefinition takes them. */
export type ServiceDefinitions = Record<string, ServiceDefinition>;

/** Writes a message as proto-loader's serializer does: from a plain object (an array is refused), through fromObject. */
function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), objectOptions);
}

function methodDefinition(service: string, method: protobuf.Method): MethodDefinition<object, object> {
  // resolveAll ran in protoRoot: both types are resolved.
  const request = method.resolvedRequestType!;
  const response = method.resolvedResponseType!;
  return {
    path: `/${service}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    requestSerialize: serializer(request),
    requestDeserialize: deserializer(request),
    responseSerialize: serializer(response),
    responseDeserialize: deserializer(response),
    // The name a grpc-js client also answers to (PublishBatch → publishBatch), as proto-loader sets it.
    originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
  };
}

/** One service's grpc-js definition, with codecs from the shared root (the files must declare it). */
export function serviceDefinition(name: string, files: readonly string[]): ServiceDefinition {
  const service = protoRoot(files).lookupService(name);
  return Object.fromEntries(service.methodsArray.map((m) => [m.name, methodDefinition(name, m)]));
}

/** Every service the files declare, by full name (the root is shared: services of other files are left out). */
export function serviceDefinitions(files: readonly string[]): ServiceDefinitions {
  const root = protoRoot(files);
  const paths = new Set(files.map(protoPath));
  const found: ServiceDefinitions = {};
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const child of ns.nestedArray) {
      if ('methodsArray' in child) {
        if (child.filename !== null && paths.has(child.filename)) found[child.fullName.slice(1)] = serviceDefinition(child.fullName.slice(1), files);
      } else if ('nestedArray' in child) visit(child as protobuf.NamespaceBase);
    }
  };
  visit(root);
  return found;
}

/** The services the gRPC server registers (ours and grpc.health.v1): its codecs, and our tests' clients'. */
export function servedDefinitions(): ServiceDefinitions {
  return serviceDefinitions([...servedProtos, healthProto]);
}
