import { randomUUID } from 'node:crypto';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { FunctionError } from '../../adapters/function/errors.ts';
import { eventHandler } from '../../adapters/function/handler.ts';
import type { HttpResponse } from '../../adapters/function/http-event.ts';
import { FunctionRuntime } from '../../adapters/function/runtime.ts';
import { errorTable } from '../../core/error-table.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { call, client, StreamReader } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

/**
 * One adapter as the conformance cases see it: operations with proto3 JSON requests (original field names, which
 * both adapters accept; bytes as base64, int64 as strings) and proto3 JSON answers (lowerCamelCase, bytes base64).
 */
export type Outcome =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; code: ErrorCode; status: number | string; message: string };

export type Operation = 'publish' | 'publish_batch' | 'append' | 'append_batch' | 'query' | 'create_stream' | 'ack' | 'get_offsets' | 'seek' | 'health';

export interface Driver {
  name: 'grpc' | 'function-direct' | 'function-http';
  call(operation: Operation, request: object, options?: { timeoutMs?: number }): Promise<Outcome>;
  /** Events of a tail, at most `n`, waiting at most `waitMs`: a gRPC Tail stream cut short, or one function tail. */
  tail(request: object, n: number, waitMs: number): Promise<Outcome>;
  /** Receives `n` messages of a group and acknowledges them all: Consume + Ack, or consume_batch + ack. */
  consumeAndAck(topic: string, group: string, n: number): Promise<Outcome>;
  close(): Promise<void>;
}

/** The transport status each adapter must answer for an error code: the two columns of the one error table. */
export function expectedStatus(driver: Driver['name'], code: ErrorCode): number | string {
  if (driver === 'grpc') return errorTable[code].grpc;
  if (driver === 'function-http') return errorTable[code].http;
  return code; // Lambda reports the error's name (our code) as errorType.
}

const grpcMethods: Record<Operation, [service: string, method: string]> = {
  publish: ['prism.interfaces.queue.QueueBasicInterface', 'Publish'],
  publish_batch: ['prism.interfaces.queue.QueueBasicInterface', 'PublishBatch'],
  ack: ['prism.interfaces.queue.QueueBasicInterface', 'Ack'],
  get_offsets: ['prism.interfaces.queue.QueueBasicInterface', 'GetOffsets'],
  seek: ['prism.interfaces.queue.QueueBasicInterface', 'Seek'],
  append: ['prism.interfaces.stream.StreamBasicInterface', 'Append'],
  append_batch: ['prism.interfaces.stream.StreamBasicInterface', 'AppendBatch'],
  query: ['prism.interfaces.stream.StreamBasicInterface', 'Query'],
  create_stream: ['prism.interfaces.stream.StreamBasicInterface', 'CreateStream'],
  health: ['prism.interfaces.LifecycleInterface', 'HealthCheck'],
};

/** Map fields of our response messages: their keys are data, never renamed. */
const mapFields = new Set(['tags', 'metadata', 'details', 'committed']);

/**
 * What grpcurl would print for a proto-loader object: bytes base64, lowerCamelCase field names (map keys kept),
 * no virtual oneof keys. Written independently of the function adapter's mapper, so the comparison tests it.
 */
function asProtoJson(value: unknown, isMap = false): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map((v) => asProtoJson(v));
  if (value === null || typeof value !== 'object') return value;
  if (isMap) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asProtoJson(v)]));
  return Object.fromEntries(Object.entries(value)
    .filter(([k]) => !k.startsWith('_'))
    .map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), asProtoJson(v, mapFields.has(k))]));
}

const grpcFailure = (err: ServiceError): Outcome => ({
  ok: false, code: String(err.metadata?.get('x-prism-error-code')[0] ?? 'UNKNOWN') as ErrorCode, status: err.code, message: err.details,
});

/** The gRPC adapter: the real server in-process on a free port, called with a real grpc-js client. */
export async function grpcDriver(env: Record<string, string>): Promise<Driver> {
  const plugin: TestPlugin = await startPlugin(env);
  const clients = new Map<string, Client>();
  const clientFor = (service: string) => {
    let c = clients.get(service);
    if (c === undefined) clients.set(service, (c = client(plugin.address, service)));
    return c;
  };
  const unary = async (service: string, method: string, request: object, timeoutMs = 10_000): Promise<Outcome> => {
    try {
      return { ok: true, body: asProtoJson(await call(clientFor(service), method, request, { deadlineMs: timeoutMs })) as Record<string, unknown> };
    } catch (err) {
      return grpcFailure(err as ServiceError);
    }
  };
  return {
    name: 'grpc',
    call: (operation, request, options) => unary(...grpcMethods[operation], request, options?.timeoutMs),
    async tail(request, n, waitMs) {
      const stream = new StreamReader<unknown>(clientFor('prism.interfaces.stream.StreamBasicInterface'), 'Tail', request);
      // A failed stream also rejects `ready`; the error is read from the reader below.
      stream.ready.catch(() => undefined);
      const events = await stream.waitFor(n, waitMs);
      stream.cancel();
      if (stream.error !== undefined && events.length === 0) return grpcFailure(stream.error as ServiceError);
      return { ok: true, body: { events: asProtoJson(events.slice(0, n)) } };
    },
    async consumeAndAck(topic, group, n) {
      const queue = clientFor('prism.interfaces.queue.QueueBasicInterface');
      const stream = new StreamReader<{ receipt: string }>(queue, 'Consume', { topic, group, subscriber_id: `conf-${randomUUID().slice(0, 8)}`, max_unacked: n });
      stream.ready.catch(() => undefined);
      const messages = (await stream.waitFor(n, 20_000)).slice(0, n);
      if (stream.error !== undefined) return grpcFailure(stream.error as ServiceError);
      const acked = await unary('prism.interfaces.queue.QueueBasicInterface', 'Ack', { receipts: messages.map((m) => m.receipt) });
      stream.cancel();
      if (!acked.ok) return acked;
      return { ok: true, body: { messages: asProtoJson(messages) } };
    },
    async close() {
      for (const c of clients.values()) c.close();
      await plugin.close();
    },
  };
}

/** Lambda-like context: the same time budget a gRPC deadline gives. */
const lambdaContext = (ms: number) => {
  const until = Date.now() + ms;
  return { awsRequestId: randomUUID(), functionName: 'conformance', getRemainingTimeInMillis: () => until - Date.now() };
};

/** The function adapter, in-process from source, invoked directly or through HTTP (API Gateway v2) events. */
export function functionDriver(name: 'function-direct' | 'function-http', env: Record<string, string>): Driver {
  const runtime = new FunctionRuntime({ env: { PRISM_LOG_LEVEL: 'silent', ...env } });
  const handler = eventHandler(runtime);
  const invoke = async (operation: string, request: object, timeoutMs = 10_000): Promise<Outcome> => {
    if (name === 'function-http') {
      const res = await handler({
        version: '2.0', rawPath: `/${operation}`, headers: { 'content-type': 'application/json' },
        requestContext: { http: { method: 'POST', path: `/${operation}` } }, body: JSON.stringify(request), isBase64Encoded: false,
      }, lambdaContext(timeoutMs)) as HttpResponse;
      const body = JSON.parse(res.body) as Record<string, unknown>;
      if (res.statusCode === 200) return { ok: true, body };
      return { ok: false, code: body.code as ErrorCode, status: res.statusCode, message: String(body.message) };
    }
    try {
      return { ok: true, body: await handler({ operation, request }, lambdaContext(timeoutMs)) as Record<string, unknown> };
    } catch (err) {
      if (!(err instanceof FunctionError)) throw err;
      return { ok: false, code: err.code, status: err.name, message: err.message };
    }
  };
  return {
    name,
    call: (operation, request, options) => invoke(operation, request, options?.timeoutMs),
    tail: (request, n, waitMs) => invoke('tail', { ...request, max_events: n, max_wait_ms: waitMs }),
    async consumeAndAck(topic, group, n) {
      const batch = await invoke('consume_batch', { topic, group, max_messages: n, max_wait_ms: 5_000 }, 25_000);
      if (!batch.ok) return batch;
      const messages = batch.body.messages as { receipt: string }[];
      const acked = await invoke('ack', { receipts: messages.map((m) => m.receipt) });
      if (!acked.ok) return acked;
      return { ok: true, body: { messages } };
    },
    close: () => runtime.close(),
  };
}
