// Tail latency at a low fixed rate (500/s): append start to delivery, through the plugin (gRPC Append → gRPC Tail) and
// directly (@platformatic/kafka send → group Consumer). Latency at 500/s, so the Node grpc-js client is no bottleneck.
import { randomUUID } from 'node:crypto';
import { Consumer, type Message } from '@platformatic/kafka';
import { call, client as grpcClient, StreamReader } from '../test/support/grpc-client.ts';
import { log, now, openLoop, quantile, sleep } from './lib.ts';
import { directProducer, newTopic } from './infra.ts';
import { brokers, P } from './params.ts';
import { addRow } from './results.ts';
import type { Server } from './servers.ts';

interface Run { p50: number; p99: number; delivered: number; sent: number }

export async function tailScenario(plugin: Server): Promise<{ p50: number; p99: number }> {
  const rate = 500;
  const stream = grpcClient(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  const g: Run[] = [];
  const d: Run[] = [];
  const direct = directProducer('tail');
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`tail round ${r + 1}/${P.rounds}`);
      const topic = await newTopic(`tail-${r}`);
      {
        const lat: number[] = [];
        const tail = new StreamReader<{ payload: Buffer }>(stream, 'Tail', { topic, start: 'latest' }, (e) => {
          lat.push(now() - e.payload.readDoubleLE(0));
          tail.received.length = 0;
        });
        await tail.ready;
        await sleep(300);
        const res = await openLoop(() => {
          const payload = Buffer.alloc(100);
          payload.writeDoubleLE(now(), 0);
          return call(stream, 'Append', { topic, payload });
        }, rate, P.tailMs, 100);
        await sleep(500);
        tail.cancel();
        g.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), delivered: lat.length, sent: res.records });
      }
      {
        const lat: number[] = [];
        const consumer = new Consumer({ clientId: 'bench-tail', bootstrapBrokers: [brokers], groupId: `bench-${randomUUID()}`, autocommit: false, maxWaitTime: 500 });
        const joined = new Promise<void>((resolve) => consumer.once('consumer:group:join', () => resolve()));
        const ms = await consumer.consume({ topics: [topic], mode: 'latest', autocommit: false });
        ms.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => void lat.push(now() - m.value.readDoubleLE(0)));
        await joined;
        await sleep(300);
        const res = await openLoop(() => {
          const payload = Buffer.alloc(100);
          payload.writeDoubleLE(now(), 0);
          return direct.send({ messages: [{ topic, value: payload }] });
        }, rate, P.tailMs, 100);
        await sleep(500);
        await consumer.close(true).catch(() => undefined);
        d.push({ p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), delivered: lat.length, sent: res.records });
      }
    }
  } finally {
    stream.close();
    await direct.close();
  }
  const delivered = (x: Run[]) => `delivered ${x.map((y) => `${y.delivered}/${y.sent}`).join(', ')}`;
  const gm = addRow(`tail, 100 B at ${rate}/s`, 'gRPC Append → gRPC Tail (append start to delivery)', { 'p50 ms': g.map((x) => x.p50), 'p99 ms': g.map((x) => x.p99) }, delivered(g));
  addRow(`tail, 100 B at ${rate}/s`, '@platformatic/kafka send → group Consumer', { 'p50 ms': d.map((x) => x.p50), 'p99 ms': d.map((x) => x.p99) }, delivered(d));
  return { p99: gm['p99 ms']!, p50: gm['p50 ms']! };
}
