// `node bench/call-overhead.ts [calls=20000]`
//
// CPU per unary call that the plugin's own layers add, in this process, with no network: the gRPC call wrapper
// (context, deadline, drain tracking, outcome metrics, the log line at the production level `info`), then the same
// with the Publish handler behind it and a producer that acknowledges at once. grpc-js's own cost (HTTP/2, framing)
// is not in it: `npm run bench` measures that against a bare grpc-js server.
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { Runtime } from '../adapters/grpc/runtime.ts';
import { unary } from '../adapters/grpc/unary.ts';
import type { CallContext } from '../core/call/context.ts';
import { loadConfig } from '../core/config/load.ts';
import type { ProducerPort } from '../core/kafka/producer-port.ts';
import { createLogger } from '../core/logger.ts';
import { createMetrics } from '../core/metrics/metrics.ts';
import { SecretScrubber } from '../core/secrets/scrubber.ts';
import { publish } from '../handlers/publish.ts';
import { prevalidated } from '../handlers/shared/define.ts';

const calls = Number(process.argv[2] ?? 20_000);
const producer: ProducerPort = {
  produce: (rs) => Promise.resolve(rs.map((r) => ({ ok: true as const, ack: { topic: r.topic, partition: 0, offset: '1', timestamp: Date.now() } }))),
  pending: () => 0,
  close: () => Promise.resolve(),
};
const scrubber = new SecretScrubber();
const scope = { log: createLogger({ level: 'info', service: 'bench', version: 'bench', scrubber, write: () => undefined }), metrics: createMetrics({ namespace: 'bench', defaultMetrics: false }), scrubber };
const runtime = new Runtime(loadConfig({ env: { KAFKA_BROKERS: '127.0.0.1:1' } }), scope, { producer });
const message = { topic: 'orders', payload: Buffer.alloc(100), key: Buffer.alloc(0), metadata: {}, message_id: '' };

async function perCall(name: string, run: (request: unknown, ctx: CallContext) => Promise<unknown>): Promise<void> {
  const handler = unary(runtime, name, run, { data: true });
  const once = () => new Promise<void>((resolve) => {
    const call = Object.assign(new EventEmitter(), { metadata: new Metadata(), request: prevalidated('publish', runtime.deps.limits, message), getDeadline: () => Date.now() + 10_000 });
    handler(call as never, () => resolve());
  });
  for (let i = 0; i < 2_000; i++) await once();
  let left = calls;
  const cpu = process.cpuUsage();
  // 64 callers at once, as the unary load of `npm run bench` (ghz -c 64).
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (left-- > 0) await once();
  }));
  const used = process.cpuUsage(cpu);
  console.log(`${name.padEnd(8)} ${((used.user + used.system) / calls).toFixed(1)} µs CPU per call`);
}

await perCall('wrapper', () => Promise.resolve({}));
await perCall('publish', (request, ctx) => publish(runtime.deps, request, ctx));
await runtime.stop(500, 'bench finished');
