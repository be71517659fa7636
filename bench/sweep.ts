// PublishBatch, the gateway's throughput path: batch size × callers through the plugin (the Go client, pre-built
// requests), the same load on the bare grpc-js server (the transport floor), and the direct clients sending the same
// batches (@platformatic/kafka, which the plugin wraps, and kafkajs). Rounds alternate the paths config by config.
import { closedLoop, log } from './lib.ts';
import { Kafka, logLevel } from './kafkajs.ts';
import { directProducer, newTopic } from './infra.ts';
import { goLoad } from './load.ts';
import { brokers, P } from './params.ts';
import { addRow } from './results.ts';
import { columns, direct, errorNote, fromGo, type Sample } from './sample.ts';
import type { Server } from './servers.ts';

export interface SweepPoint { path: string; batch: number; callers: number; samples: Sample[] }

export async function sweepScenario(plugin: Server, bare: Server | undefined, brokerPid: number | undefined): Promise<SweepPoint[]> {
  const size = P.recordBytes;
  const topic = await newTopic('sweep');
  const bareTopic = 'bare';
  const payload = Buffer.alloc(size, 120);
  const platformatic = directProducer('sweep');
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [brokers], logLevel: logLevel.NOTHING });
  const kjs = kafka.producer({ allowAutoTopicCreation: false });
  await kjs.connect();
  const maxCallers = Math.max(...P.callers);
  type Path = { name: string; callers: number[]; run: (batch: number, callers: number, warmupMs: number) => Promise<Sample> };
  const conns = (c: number) => Math.min(c, P.connections);
  const paths: Path[] = [
    { name: 'plugin PublishBatch (Go client)', callers: P.callers, run: async (batch, callers, warmupMs) => fromGo(await goLoad({ addr: plugin.address, mode: 'publish-batch', topic, batch, size, callers, conns: conns(callers), warmupMs, durationMs: P.roundMs, pids: { plugin: plugin.pid, broker: brokerPid } }), 'plugin') },
    ...(bare === undefined ? [] : [{ name: 'bare grpc-js PublishBatch (Go client)', callers: P.bareCallers, run: async (batch: number, callers: number, warmupMs: number) => fromGo(await goLoad({ addr: bare.address, mode: 'publish-batch', topic: bareTopic, batch, size, callers, conns: conns(callers), warmupMs, durationMs: P.roundMs, pids: { bare: bare.pid } }), 'bare') }]),
    { name: '@platformatic/kafka send (direct)', callers: P.callers, run: (batch, callers, warmupMs) => {
      const messages = Array.from({ length: batch }, () => ({ topic, value: payload }));
      const op = async () => { await platformatic.send({ messages }); return batch; };
      return direct(async () => { await closedLoop(op, callers, warmupMs, size); return closedLoop(op, callers, P.roundMs, size); }, brokerPid, 1 / batch);
    } },
    { name: 'kafkajs 2.2.4 send (direct)', callers: [maxCallers], run: (batch, callers, warmupMs) => {
      const messages = Array.from({ length: batch }, () => ({ value: payload }));
      const op = async () => { await kjs.send({ topic, acks: -1, messages }); return batch; };
      return direct(async () => { await closedLoop(op, callers, warmupMs, size); return closedLoop(op, callers, P.roundMs, size); }, brokerPid, 1 / batch);
    } },
  ];
  const points = new Map<string, SweepPoint>();
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`sweep round ${r + 1}/${P.rounds}: batches ${P.batches.join(', ')} × callers ${P.callers.join(', ')}`);
      for (const batch of P.batches) {
        for (const callers of P.callers) {
          for (const path of paths) {
            if (!path.callers.includes(callers)) continue;
            const key = `${path.name}|${batch}|${callers}`;
            const point = points.get(key) ?? { path: path.name, batch, callers, samples: [] };
            points.set(key, point);
            point.samples.push(await path.run(batch, callers, r === 0 ? P.firstWarmupMs : P.warmupMs));
          }
        }
      }
    }
  } finally {
    await platformatic.close();
    await kjs.disconnect();
  }
  for (const p of points.values()) {
    addRow(`PublishBatch sweep, ${size} B records`, `${p.path}, batch ${p.batch}, ${p.callers} caller${p.callers > 1 ? 's' : ''}`, columns(p.samples), errorNote(p.samples));
  }
  return [...points.values()];
}
