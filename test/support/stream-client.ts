import { credentials, loadPackageDefinition, Metadata, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { servedDefinitions } from '../../adapters/protos/services.ts';

/** A StreamEvent as the client decodes it (int64 as strings). */
export interface WireEvent {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer;
  payload: Buffer;
  tags: Record<string, string>;
  cursor: string;
}

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: Record<string, unknown>) => Client;

/** A real grpc-js client of prism.interfaces.stream.StreamBasicInterface. */
export function streamClient(address: string, options: Record<string, unknown> = {}): Client {
  let node: unknown = loadPackageDefinition(servedDefinitions());
  for (const part of 'prism.interfaces.stream.StreamBasicInterface'.split('.')) node = (node as Record<string, unknown>)[part];
  return new (node as Ctor)(address, credentials.createInsecure(), options);
}

/** Calls a unary method; resolves with the response or rejects with the ServiceError. */
export function unaryCall<Res = Record<string, unknown>>(c: Client, method: string, request: unknown, deadlineMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (c as unknown as Record<string, (...args: unknown[]) => void>)[method]!.bind(c);
    fn(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

export interface OpenTail {
  call: ClientReadableStream<WireEvent>;
  /** Resolves when the server sent its response headers: the tail is positioned. */
  positioned: Promise<void>;
  /** Resolves with `n` more events (rejects on a stream error or after `timeoutMs`). */
  take(n: number, timeoutMs?: number): Promise<WireEvent[]>;
  /** Resolves with the stream's final error (or null when it ended OK). */
  ended: Promise<ServiceError | null>;
}

/** Opens a Tail call and buffers its events for `take`. */
export function openTail(c: Client, request: Record<string, unknown>): OpenTail {
  const call = (c as unknown as { Tail(req: unknown): ClientReadableStream<WireEvent> }).Tail(request);
  const buffered: WireEvent[] = [];
  let wake: (() => void) | undefined;
  let failure: ServiceError | null | undefined;
  const positioned = new Promise<void>((resolve) => call.once('metadata', () => resolve()));
  const ended = new Promise<ServiceError | null>((resolve) => {
    call.on('error', (err: ServiceError) => {
      failure = err;
      wake?.();
      resolve(err);
    });
    call.on('end', () => {
      failure ??= null;
      wake?.();
      resolve(null);
    });
  });
  call.on('data', (event: WireEvent) => {
    buffered.push(event);
    wake?.();
  });
  return {
    call,
    positioned,
    ended,
    async take(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (buffered.length < n) {
        if (failure !== undefined) throw new Error(`tail ended after ${buffered.length} of ${n} events: ${failure?.message ?? 'OK'}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${buffered.length} of ${n} events within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return buffered.splice(0, n);
    },
  };
}
