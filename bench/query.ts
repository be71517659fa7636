// Query over a filled range: the Go client pages through the whole stream (pages of 10,000) again and again; beside
// it, a direct @platformatic/kafka group consumer reading the same records from the earliest offset, and the latency
// of a first page at the default size through a grpc-js client.
import { randomUUID } from 'node:crypto';
import { Consumer, type Message } from '@platformatic/kafka';
import { call, client as grpcClient } from '../test/support/grpc-client.ts';
import { cpuMsOf, log, median, now, quantile } from './lib.ts';
import { fill, newTopic } from './infra.ts';
import { goLoad } from './load.ts';
import { brokers, P } from './params.ts';
import { addRow } from './results.ts';
import { columns, fromGo, type Sample } from './sample.ts';
import type { Server } from './servers.ts';

async function directRead(topic: string, count: number, brokerPid: number | undefined): Promise<Sample> {
  const consumer = new Consumer({ clientId: 'bench-query-direct', bootstrapBrokers: [brokers], groupId: `bench-${randomUUID()}`, autocommit: false, maxWaitTime: 500, highWaterMark: 1024 });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let first = 0;
    let seen = 0;
    let cpu0 = { user: 0, system: 0 };
    let broker0 = NaN;
    for await (const _ of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
      if (first === 0) {
        first = now();
        cpu0 = process.cpuUsage();
        broker0 = brokerPid === undefined ? NaN : cpuMsOf(brokerPid);
      }
      if (++seen >= count) break;
    }
    const seconds = (now() - first) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { records: seen, calls: 0, seconds, recordsPerSec: seen / seconds, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, errors: 0, cpuMs: { gen: (cpu.user + cpu.system) / 1000, broker: brokerPid === undefined ? undefined : cpuMsOf(brokerPid) - broker0 } };
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}

export async function queryScenario(plugin: Server, brokerPid: number | undefined): Promise<{ recordsPerSec: number }> {
  const topic = await newTopic('query');
  log(`query: filling ${P.queryRecords} records`);
  await fill(topic, P.queryRecords, P.recordBytes);
  const stream = grpcClient(plugin.address, 'prism.interfaces.stream.StreamBasicInterface');
  const g: Sample[] = [];
  const d: Sample[] = [];
  const firstPage: number[] = [];
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`query round ${r + 1}/${P.rounds}`);
      g.push(fromGo(await goLoad({ addr: plugin.address, mode: 'query', topic, queryLimit: 10_000, warmupMs: r === 0 ? P.firstWarmupMs : P.warmupMs, durationMs: P.queryMs, pids: { plugin: plugin.pid, broker: brokerPid } }), 'plugin'));
      for (let i = 0; i < 5; i++) {
        const t = now();
        const page = await call<{ events: unknown[] }>(stream, 'Query', { topic }, { deadlineMs: 60_000 });
        firstPage.push(now() - t);
        if (page.events.length !== 100) throw new Error(`first page has ${page.events.length} events`);
      }
      d.push(await directRead(topic, P.queryRecords, brokerPid));
    }
  } finally {
    stream.close();
  }
  const scenario = `query ${P.queryRecords} × ${P.recordBytes} B`;
  const gm = addRow(scenario, 'plugin Query, pages of 10,000, whole range again and again (Go client)', columns(g), 'p* ms: per page');
  addRow(scenario, 'plugin Query, first page at the default limit (100), grpc-js client', { 'p50 ms': [median(firstPage)], 'p99 ms': [quantile(firstPage, 0.99)] }, `${firstPage.length} samples`);
  addRow(scenario, '@platformatic/kafka group Consumer from earliest (direct, no commits)', columns(d, { server: false }), 'from the first record to the last (join excluded)');
  return { recordsPerSec: gm['rec/s']! };
}
