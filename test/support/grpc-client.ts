import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { servedDefinitions } from '../../adapters/protos/services.ts';

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

function ctor(path: string): Ctor {
  let node: unknown = loadPackageDefinition(servedDefinitions());
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

interface ReadableCall {
  on(event: 'data', cb: (msg: unknown) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'end', cb: () => void): void;
  on(event: 'metadata', cb: () => void): void;
  cancel(): void;
}

/** A server-streaming call with a queue of received messages, for tests. */
export class StreamReader<T> {
  readonly received: T[] = [];
  error: (Error & { code?: number }) | undefined;
  ended = false;
  readonly call: ReadableCall;
  #waiters: (() => void)[] = [];
  /** Resolves when the server sent response headers (the stream is positioned / joined). */
  readonly ready: Promise<void>;

  constructor(c: Client, method: string, request: unknown, onMessage?: (m: T) => void) {
    this.call = (c as unknown as Record<string, (req: unknown) => ReadableCall>)[method]!.call(c, request);
    this.ready = new Promise((resolve, reject) => {
      this.call.on('metadata', () => resolve());
      this.call.on('error', reject);
    });
    this.call.on('data', (m) => {
      this.received.push(m as T);
      onMessage?.(m as T);
      this.#wake();
    });
    this.call.on('error', (e) => {
      this.error = e;
      this.#wake();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.#wake();
    });
  }

  /** Waits until `count` messages arrived (or the stream ended/failed, or the timeout passed). */
  async waitFor(count: number, timeoutMs = 20_000): Promise<T[]> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < count && !this.ended && this.error === undefined && Date.now() < until) {
      await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())))]);
    }
    return this.received;
  }

  cancel(): void {
    this.call.cancel();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
