// `node bench/hot-path.ts [records=1000] [rounds=200]`
//
// CPU per record of the plugin's own work on a PublishBatch, in this process and without a broker: request decoding,
// the handler (with a producer that acknowledges at once) and response encoding — through the general codecs
// (wire check + protobufjs + zod) and through the hot codecs (adapters/grpc/wire/). Isolates what the plugin adds
// per record from the transport and the client library; the end-to-end figures are `npm run bench`'s.
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { servedDefinitions } from '../adapters/protos/services.ts';
import { lenientDecoding } from '../adapters/grpc/strict-decode.ts';
import { withHotCodecs } from '../adapters/grpc/wire/hot-codecs.ts';
import type { ProducerPort } from '../core/kafka/producer-port.ts';
import { createMetrics } from '../core/metrics/metrics.ts';
import { publishBatch } from '../handlers/publish-batch.ts';
import { testContext } from '../test/support/context.ts';

const records = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 200);
let node: unknown = loadPackageDefinition(servedDefinitions());
for (const part of 'prism.interfaces.queue.QueueBasicInterface'.split('.')) node = (node as Record<string, unknown>)[part];
const general = lenientDecoding((node as { service: ServiceDefinition }).service);
const limits = { maxMessageBytes: 1 << 20 };
const hot = withHotCodecs(general, () => limits);
const producer: ProducerPort = {
  produce: (rs) => Promise.resolve(rs.map((r, i) => ({ ok: true as const, ack: { topic: r.topic, partition: i % 3, offset: String(i), timestamp: Date.now() } }))),
  pending: () => 0,
  close: () => Promise.resolve(),
};
const deps = { producer, metrics: createMetrics({ namespace: 'bench', defaultMetrics: false }), limits };
const ctx = testContext();
const bytes = general.PublishBatch!.requestSerialize({ messages: Array.from({ length: records }, (_, i) => ({ topic: 'bench', payload: Buffer.alloc(100, i), metadata: { source: 'bench' } })) });

async function measure(name: string, definition: ServiceDefinition): Promise<number> {
  const m = definition.PublishBatch!;
  const once = async () => m.responseSerialize(await publishBatch(deps, m.requestDeserialize(bytes), ctx));
  for (let i = 0; i < 20; i++) await once();
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await once();
  const used = process.cpuUsage(cpu);
  const perRecord = (used.user + used.system) / rounds / records;
  console.log(`${name.padEnd(8)} ${perRecord.toFixed(2)} µs CPU per record (decode + handler + encode, ${records} × 100 B, ${rounds} rounds)`);
  return perRecord;
}

const g = await measure('general', general);
const h = await measure('hot', hot);
console.log(`hot / general: ${(h / g).toFixed(2)}×`);
