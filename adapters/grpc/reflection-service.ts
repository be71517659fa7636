import { status, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { reflectionProtos } from '../protos/files.ts';
import { serviceDefinition } from '../protos/services.ts';
import type { DescriptorIndex } from './descriptors.ts';

interface ReflectionRequest {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** The message_response half of a ServerReflectionResponse, by the proto's field names. */
type Answer =
  | { file_descriptor_response: { file_descriptor_proto: Buffer[] } }
  | { all_extension_numbers_response: { base_type_name: string; extension_number: number[] } }
  | { list_services_response: { service: { name: string }[] } }
  | { error_response: { error_code: number; error_message: string } };

const notFound = (message: string): Answer => ({ error_response: { error_code: status.NOT_FOUND, error_message: message } });

function files(index: DescriptorIndex, fileName: string | undefined, what: string): Answer {
  const list = fileName === undefined ? undefined : index.fileWithImports(fileName);
  return list === undefined ? notFound(`${what} not found`) : { file_descriptor_response: { file_descriptor_proto: list } };
}

/**
 * Answers one reflection request from the compiled descriptors (grpc/reflection/v1/reflection.proto semantics).
 * `listed`: the services this server registered (the set may declare more, e.g. the proxy's ProxyControlPlane).
 */
export function answer(index: DescriptorIndex, req: ReflectionRequest, listed: readonly string[] = index.services): Answer {
  switch (req.message_request) {
    case 'list_services':
      return { list_services_response: { service: listed.map((name) => ({ name })) } };
    case 'file_by_filename':
      return files(index, req.file_by_filename, `file ${req.file_by_filename}`);
    case 'file_containing_symbol':
      return files(index, index.fileOfSymbol(req.file_containing_symbol ?? ''), `symbol ${req.file_containing_symbol}`);
    case 'file_containing_extension': {
      const { containing_type: type = '', extension_number: number = 0 } = req.file_containing_extension ?? {};
      return files(index, index.fileOfExtension(type, number), `extension ${number} of ${type}`);
    }
    case 'all_extension_numbers_of_type': {
      const type = req.all_extension_numbers_of_type ?? '';
      const numbers = index.extensionNumbers(type);
      return numbers === undefined ? notFound(`type ${type} not found`) : { all_extension_numbers_response: { base_type_name: type, extension_number: numbers } };
    }
    default:
      return { error_response: { error_code: status.UNIMPLEMENTED, error_message: `unknown reflection request ${req.message_request}` } };
  }
}

/**
 * Registers grpc.reflection.v1 and v1alpha (grpcurl and grpc-go's clients try v1 first, older ones only know v1alpha).
 * The descriptors they serve are buf's compiled bytes, passed through untouched: @grpc/reflection's own service
 * re-encodes descriptors through protobufjs, which loses proto3 optional, so it is not used. Only the reflection
 * messages themselves go through the shared proto root (adapters/protos/).
 */
export function addReflectionService(server: Server, index: DescriptorIndex, registered: readonly string[]): void {
  const versions = ['v1', 'v1alpha'] as const;
  const listed = [...registered, ...versions.map((v) => `grpc.reflection.${v}.ServerReflection`)];
  // A set compiled from other protos than the ones served (a stale build) must fail at start, not mislead clients.
  const missing = listed.filter((name) => !index.services.includes(name));
  if (missing.length > 0) throw new Error(`the compiled descriptor set does not declare ${missing.join(', ')}: rebuild it (node build-descriptors.mjs)`);
  for (const version of versions) {
    server.addService(serviceDefinition(`grpc.reflection.${version}.ServerReflection`, [reflectionProtos[version]]), {
      ServerReflectionInfo: (stream: ServerDuplexStream<ReflectionRequest, object>) => {
        stream.on('data', (req: ReflectionRequest) => {
          stream.write({ valid_host: req.host ?? '', original_request: req, ...answer(index, req, listed) });
        });
        stream.on('end', () => stream.end());
        // A client that goes away mid-stream: nothing to clean up, and an unhandled 'error' would throw.
        stream.on('error', () => undefined);
      },
    });
  }
}
