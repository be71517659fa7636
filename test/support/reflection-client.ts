import { createRequire } from 'node:module';
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface ReflectionResponse {
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
interface Duplex {
  on(event: 'data', cb: (msg: ReflectionResponse) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'end', cb: () => void): void;
  write(msg: unknown): void;
  end(): void;
}

/**
 * Sends reflection requests (field names as in reflection.proto) over one ServerReflectionInfo stream, as grpcurl
 * does, and resolves with the answers in order. Bytes stay Buffers: exactly what the server wrote.
 */
export async function reflect(address: string, requests: object[], version: 'v1' | 'v1alpha' = 'v1'): Promise<ReflectionResponse[]> {
  const protoPath = createRequire(import.meta.url).resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
  let node: unknown = loadPackageDefinition(loadSync(protoPath, { keepCase: true }));
  for (const part of `grpc.reflection.${version}.ServerReflection`.split('.')) node = (node as Record<string, unknown>)[part];
  const client = new (node as Ctor)(address, credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      const answers: ReflectionResponse[] = [];
      const stream = (client as unknown as { ServerReflectionInfo(): Duplex }).ServerReflectionInfo();
      stream.on('data', (msg) => answers.push(msg));
      stream.on('error', reject);
      stream.on('end', () => resolve(answers));
      for (const r of requests) stream.write(r);
      stream.end();
    });
  } finally {
    client.close();
  }
}
