// Consume with acknowledgements in steady state: a backlog written by Kafka's Java producer, the same producer feeding
// the topic at a fixed rate throughout, and each round a new consumer group from the earliest offset, measured from
// `warmup` after its first delivery. Both sides get the same delivery window (2,000 unacknowledged records), prefetch
// (256 records), fetch size (1 MiB per partition), fetch wait (500 ms) and acknowledgement batches (200).
import { randomUUID } from 'node:crypto';
import { Consumer, type Message } from '@platformatic/kafka';
import { cpuMsOf, log, now } from './lib.ts';
import { newTopic } from './infra.ts';
import { goLoad } from './load.ts';
import { brokers, P } from './params.ts';
import { perfTest } from './perf-test.ts';
import { addRow } from './results.ts';
import { columns, type Sample } from './sample.ts';
import type { Server } from './servers.ts';

// The plugin's settings (bench/servers.ts: PRISM_CONSUMER_MAX_UNACKED; core/config/schema.ts: consumer.prefetch;
// core/queue/session.ts, fetch-loop.ts: fetchBytes, fetch wait), given to the direct consumer too.
const window = 2000;
const prefetch = 256;
const fetchBytes = 1_048_576;
const fetchWaitMs = 500;
const ackBatch = 200;

/** @platformatic/kafka's Consumer with the plugin's settings: commits the last record of each partition every 200. */
async function directConsume(topic: string, warmupMs: number, durationMs: number, brokerPid: number | undefined): Promise<Sample & { caughtUp: boolean }> {
  const consumer = new Consumer({ clientId: 'bench-consume', bootstrapBrokers: [brokers], groupId: `bench-${randomUUID()}`, autocommit: false, maxWaitTime: fetchWaitMs, maxBytesPerPartition: fetchBytes, minBytes: 1, highWaterMark: prefetch });
  const began = BigInt(Date.now());
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let seen = 0;
    let committed = 0;
    const commits: Promise<void>[] = [];
    let last = new Map<number, Message<Buffer, Buffer, Buffer, Buffer>>();
    let start = 0;
    let end = Infinity;
    let startSeen = 0;
    let cpu0 = { user: 0, system: 0 };
    let broker0 = NaN;
    let caughtUp = false;
    for await (const m of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
      const t = now();
      if (start === 0) {
        start = t + warmupMs;
        end = start + durationMs;
      }
      if (startSeen === 0 && t >= start) {
        startSeen = seen;
        cpu0 = process.cpuUsage();
        broker0 = brokerPid === undefined ? NaN : cpuMsOf(brokerPid);
      }
      seen++;
      last.set(m.partition, m);
      if (seen % ackBatch === 0) {
        const parts = [...last.values()];
        last = new Map();
        commits.push(Promise.all(parts.map((x) => x.commit() as Promise<void>)).then(() => void (committed += ackBatch)));
      }
      // The same window as the plugin's: at most 2,000 delivered and not yet committed.
      while (seen - committed > window && commits.length > 0) await commits.shift();
      if (startSeen > 0 && m.timestamp >= began) caughtUp = true;
      if (t >= end || (caughtUp && startSeen > 0)) {
        const seconds = (t - start) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const records = seen - startSeen;
        return {
          records, calls: records / ackBatch, seconds, recordsPerSec: records / seconds, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, errors: 0, caughtUp,
          cpuMs: { gen: (cpu.user + cpu.system) / 1000, broker: brokerPid === undefined ? undefined : cpuMsOf(brokerPid) - broker0 },
        };
      }
    }
    throw new Error('the consumer stream ended');
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}

export async function consumeScenario(plugin: Server, brokerPid: number | undefined): Promise<{ plugin: number; direct: number }> {
  const topic = await newTopic('consume');
  log(`consume: a backlog of ${P.consumeBacklog} × ${P.recordBytes} B (kafka-producer-perf-test)`);
  const t = now();
  await perfTest(topic, { size: P.recordBytes, throughput: -1, records: P.consumeBacklog, durationMs: 600_000 }).done;
  log(`consume: backlog written in ${((now() - t) / 1000).toFixed(1)} s; feeding ${P.feedRate}/s meanwhile`);
  const feeder = perfTest(topic, { size: P.recordBytes, throughput: P.feedRate, durationMs: 3_600_000 });
  const g: Sample[] = [];
  const d: Sample[] = [];
  const notes: string[] = [];
  try {
    for (let r = 0; r < P.rounds; r++) {
      log(`consume round ${r + 1}/${P.rounds}`);
      const run = await goLoad({ addr: plugin.address, mode: 'consume', topic, warmupMs: P.warmupMs, durationMs: P.consumeMs, maxUnacked: window, ackBatch, pids: { plugin: plugin.pid, broker: brokerPid } });
      g.push({ records: run.records, calls: run.calls, seconds: run.seconds, recordsPerSec: run.records_per_s, p50Ms: run.p50_ms, p90Ms: run.p90_ms, p99Ms: run.p99_ms, errors: run.errors,
        ...(run.first_error === undefined ? {} : { firstError: run.first_error }), cpuMs: { server: run.cpu_ms.plugin, gen: run.cpu_ms.self!, broker: run.cpu_ms.broker } });
      if (run.caught_up_ms !== undefined) notes.push(`plugin round ${r + 1} drained the backlog`);
      const dr = await directConsume(topic, P.warmupMs, P.consumeMs, brokerPid);
      if (dr.caughtUp) notes.push(`direct round ${r + 1} drained the backlog after ${dr.seconds.toFixed(1)} s`);
      d.push(dr);
    }
  } finally {
    feeder.stop();
    await feeder.done;
  }
  const scenario = `consume with acks, ${P.recordBytes} B, steady state (backlog + ${P.feedRate}/s producer)`;
  const gm = addRow(scenario, 'plugin Consume + Ack by receipt (Go client)', columns(g), ['p* ms: Ack call latency', ...notes.filter((n) => n.startsWith('plugin'))].join('; '));
  const dm = addRow(scenario, '@platformatic/kafka Consumer, commit per 200 (direct)', columns(d, { server: false }), notes.filter((n) => n.startsWith('direct')).join('; ') || undefined);
  return { plugin: gm['rec/s']!, direct: dm['rec/s']! };
}
