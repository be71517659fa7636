// The transport floor: a bare grpc-js server on the plugin's protos and codecs (proto-loader, protobufjs) and with the
// plugin's server options, answering Publish, PublishBatch, Append and AppendBatch from memory with a fixed answer of
// the plugin's shape. No Kafka, no validation, no metrics. Run as a child process by the bench, which reads its CPU
// from /proc:   node --max-semi-space-size=8 bench/bare-server.ts [port]
// Prints one JSON line {"msg":"bare server listening","port":N} on stdout.
import { createServer } from 'node:net';
import { loadPackageDefinition, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { servedDefinitions } from '../adapters/protos/services.ts';

// As adapters/grpc/main.ts and server.ts: the default kafka.maxMessageBytes plus the envelope, keepalive as served.
const maxReceiveBytes = 1_048_576 + 64 * 1024;

const definitions = loadPackageDefinition(servedDefinitions());
function service(name: string): ServiceDefinition {
  let node: unknown = definitions;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  return (node as { service: ServiceDefinition }).service;
}

type Unary<Req> = (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => void;
const unary = <Req>(answer: (request: Req) => unknown): Unary<Req> => (call, callback) => callback(null, answer(call.request));

// A message id as long as a UUID, a decimal offset and a timestamp as the plugin returns them.
const messageId = '00000000-0000-4000-8000-000000000000';
const published = (topic: string) => ({ message_id: messageId, topic, partition: 0, offset: '1000000', timestamp: '1796000000000' });
const batchAnswers = new Map<string, unknown>();
const appendAnswers = new Map<number, unknown>();

const queue: UntypedServiceImplementation = {
  Publish: unary<{ topic: string }>((r) => published(r.topic)),
  PublishBatch: unary<{ messages: { topic: string }[] }>((r) => {
    const key = `${r.messages.length}|${r.messages[0]?.topic ?? ''}`;
    let answer = batchAnswers.get(key);
    if (answer === undefined) {
      answer = { results: r.messages.map((m, index) => ({ index, success: true, result: published(m.topic), error_code: '', error: '' })) };
      batchAnswers.set(key, answer);
    }
    return answer;
  }),
};
const stream: UntypedServiceImplementation = {
  Append: unary<{ topic: string }>((r) => ({ topic: r.topic, partition: 0, offset: '1000000', timestamp: '1796000000000' })),
  AppendBatch: unary<{ records: unknown[] }>((r) => {
    let answer = appendAnswers.get(r.records.length);
    if (answer === undefined) {
      answer = { results: r.records.map(() => ({ success: true, partition: 0, offset: '1000000', timestamp: '1796000000000' })), appended: r.records.length, failed: 0 };
      appendAnswers.set(r.records.length, answer);
    }
    return answer;
  }),
};

const grpc = new Server({ 'grpc.max_receive_message_length': maxReceiveBytes, 'grpc.keepalive_permit_without_calls': 1 });
grpc.addService(service('prism.interfaces.queue.QueueBasicInterface'), queue);
grpc.addService(service('prism.interfaces.stream.StreamBasicInterface'), stream);
// As adapters/grpc/listener.ts: our own TCP server (no Nagle) hands every connection to grpc-js.
const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
const tcp = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  injector.injectConnection(socket);
});
tcp.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = tcp.address();
  process.stdout.write(`${JSON.stringify({ msg: 'bare server listening', port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
