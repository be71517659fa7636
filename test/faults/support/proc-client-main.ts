/**
 * A gRPC client as its own process, for fault tests whose clients must vanish the way real ones do (SIGKILL: the TCP
 * connections drop with no goodbye) or go politely (stdin "cancel": every call is cancelled). Started by
 * proc-client.ts with its spec as JSON in PRISM_FAULT_CLIENT; reports on stdout as JSON lines with a `msg` field:
 *   ready     {ready, failed, codes}      every stream has its response headers (positioned / joined) or failed
 *   message   {stream, kind, id, cursor}  one delivery (only with `report`)
 *   acked     {stream, ids, acknowledged} an Ack the plugin answered (`ackFirst`)
 *   ended     {stream, code}              a stream ended or failed after it was ready
 *   cancelled {}                          after "cancel"
 */
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { servedDefinitions } from '../../../adapters/protos/services.ts';
import type { ClientSpec, StreamSpec } from './proc-client.ts';

interface ReadableCall {
  on(event: 'data', cb: (msg: Record<string, unknown>) => void): void;
  on(event: 'error', cb: (err: ServiceError) => void): void;
  on(event: 'end' | 'metadata', cb: () => void): void;
  cancel(): void;
}

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options: Record<string, unknown>) => Client;

const services = {
  tail: 'prism.interfaces.stream.StreamBasicInterface',
  consume: 'prism.interfaces.queue.QueueBasicInterface',
  subscribe: 'prism.interfaces.pubsub.PubSubBasicInterface',
} as const;

const spec = JSON.parse(process.env.PRISM_FAULT_CLIENT ?? '{}') as ClientSpec;
const out = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const definitions = loadPackageDefinition(servedDefinitions());
const ctor = (service: string): Ctor => {
  let node: unknown = definitions;
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  return node as Ctor;
};

// One TCP connection per (channel, service): a local subchannel pool keeps grpc-js from sharing them.
const clients = new Map<string, Client>();
const clientFor = (kind: keyof typeof services, n: number): Client => {
  const key = `${kind}:${String(n % Math.max(1, spec.channels))}`;
  let c = clients.get(key);
  if (c === undefined) clients.set(key, (c = new (ctor(services[kind]))(spec.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })));
  return c;
};

const calls: ReadableCall[] = [];
let ready = 0;
let failed = 0;
const codes: Record<string, number> = {};
const settledOne = () => {
  if (ready + failed === spec.streams.length) out({ msg: 'ready', ready, failed, codes });
};

function ack(c: Client, stream: number, batch: { id: string; receipt: string }[]): void {
  const fn = (c as unknown as Record<string, (...args: unknown[]) => void>).Ack!.bind(c);
  fn({ receipts: batch.map((m) => m.receipt) }, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res: { acknowledged: number }) => {
    if (err === null) out({ msg: 'acked', stream, ids: batch.map((m) => m.id), acknowledged: res.acknowledged });
    else out({ msg: 'ack-failed', stream, code: err.code, error: err.message });
  });
}

function open(s: StreamSpec, i: number): void {
  const c = clientFor(s.kind, i);
  let request: Record<string, unknown>;
  let method: string;
  if (s.kind === 'tail') {
    method = 'Tail';
    request = { topic: s.topic, ...(s.cursor === undefined ? { start: s.start ?? 'latest' } : { cursor: s.cursor }) };
  } else if (s.kind === 'consume') {
    method = 'Consume';
    request = { topic: s.topic, group: s.group, subscriber_id: s.subscriber_id, max_unacked: s.max_unacked ?? 0 };
  } else {
    method = 'Subscribe';
    request = { topic: s.topic, subscriber_id: s.subscriber_id, options: { ...(s.group === undefined ? {} : { group: s.group }), start: s.start ?? 'earliest' } };
  }
  const call = (c as unknown as Record<string, (req: unknown) => ReadableCall>)[method]!.call(c, request);
  calls.push(call);
  let isReady = false;
  const toAck: { id: string; receipt: string }[] = [];
  let acked = false;
  call.on('metadata', () => {
    if (isReady) return;
    isReady = true;
    ready++;
    settledOne();
  });
  call.on('data', (m) => {
    const id = s.kind === 'tail' ? String((m.tags as Record<string, string>)['prism-message-id']) : String(m.message_id);
    if (spec.report === true) out({ msg: 'message', stream: i, kind: s.kind, id, ...(s.kind === 'tail' ? { cursor: m.cursor } : {}) });
    if (s.kind === 'consume' && spec.ackFirst !== undefined && !acked) {
      toAck.push({ id, receipt: String(m.receipt) });
      if (toAck.length >= spec.ackFirst) {
        acked = true;
        ack(c, i, toAck);
      }
    }
  });
  call.on('error', (err) => {
    if (!isReady) {
      failed++;
      codes[String(err.code)] = (codes[String(err.code)] ?? 0) + 1;
      settledOne();
    } else out({ msg: 'ended', stream: i, code: err.code });
  });
  call.on('end', () => out({ msg: 'ended', stream: i, code: 0 }));
}

spec.streams.forEach(open);

let input = '';
process.stdin.on('data', (chunk: Buffer) => {
  input += chunk.toString();
  if (!input.includes('cancel')) return;
  for (const call of calls) call.cancel();
  out({ msg: 'cancelled' });
  // Let the cancellations reach the plugin before the connections close.
  setTimeout(() => {
    for (const c of clients.values()) c.close();
    process.exit(0);
  }, 500);
});
