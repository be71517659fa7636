import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadDefinitions } from '../../adapters/grpc/protos.ts';

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

function ctor(path: string): Ctor {
  let node: unknown = loadPackageDefinition(loadDefinitions());
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as Ctor;
}

/** A real grpc-js client for one of our services. */
export function client(address: string, service: string): Client {
  const C = ctor(service);
  return new C(address, credentials.createInsecure());
}

/** Calls a unary method and resolves with the response, or rejects with the ServiceError. */
export function call<Res = Record<string, unknown>>(c: Client, method: string, request: unknown, options: { deadlineMs?: number; metadata?: Metadata } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (c as unknown as Record<string, (...args: unknown[]) => void>)[method]!.bind(c);
    fn(request, options.metadata ?? new Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 10_000) }, (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

interface ReflectionStream {
  on(event: 'data', cb: (msg: { listServicesResponse?: { service: { name: string }[] } }) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  write(msg: unknown): void;
  end(): void;
}

/** Asks the server's reflection service (v1) for its service names, as grpcurl's `list` does. */
export async function listServices(address: string): Promise<string[]> {
  const { createRequire } = await import('node:module');
  const { loadSync } = await import('@grpc/proto-loader');
  const protoPath = createRequire(import.meta.url).resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  let node: unknown = loadPackageDefinition(loadSync(protoPath));
  for (const part of 'grpc.reflection.v1.ServerReflection'.split('.')) node = (node as Record<string, unknown>)[part];
  const reflection = new (node as Ctor)(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = (reflection as unknown as { ServerReflectionInfo(): ReflectionStream }).ServerReflectionInfo();
      stream.on('data', (msg) => {
        resolve(msg.listServicesResponse?.service.map((s) => s.name) ?? []);
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ listServices: '' });
    });
  } finally {
    reflection.close();
  }
}
