// Unary Publish: ghz (Go, pre-encoded request) against the plugin and against the bare grpc-js server, saturating
// (64 concurrent calls on 4 connections) and then at fixed fractions of the plugin's maximum, beside the direct
// per-call clients at the same load. Gives the plugin's CPU per call over the transport floor's, and the latency the
// plugin adds at a given load.
import { closedLoop, log, median, openLoop } from './lib.ts';
import { Kafka, logLevel } from './kafkajs.ts';
import { directProducer, newTopic } from './infra.ts';
import { ghz, goLoad, publishRequestFile } from './load.ts';
import { brokers, P } from './params.ts';
import { addRow } from './results.ts';
import { columns, direct, errorNote, fromGhz, fromGo, type Sample } from './sample.ts';
import type { Server } from './servers.ts';

/** One load level of one path; `rate` is the rate asked for (undefined: saturating). */
export interface LatencyPoint { path: string; load: string; rate?: number; samples: Sample[] }
export interface UnaryResult { points: LatencyPoint[]; max: Record<string, Sample[]> }

export async function unaryScenario(plugin: Server, bare: Server | undefined, brokerPid: number | undefined): Promise<UnaryResult> {
  const size = P.recordBytes;
  const topic = await newTopic('unary');
  const data = publishRequestFile(topic, size);
  const payload = Buffer.alloc(size, 120);
  const platformatic = directProducer('unary');
  const kafka = new Kafka({ clientId: 'bench-kafkajs-unary', brokers: [brokers], logLevel: logLevel.NOTHING });
  const kjs = kafka.producer({ allowAutoTopicCreation: false });
  await kjs.connect();
  const c = P.ghzConcurrency;
  const conn = P.ghzConnections;
  const ghzOn = async (server: Server, name: string, durationMs: number, rps?: number) =>
    fromGhz(await ghz({ addr: server.address, dataFile: data, concurrency: c, connections: conn, durationMs, ...(rps === undefined ? {} : { rps }), pids: { [name]: server.pid, broker: brokerPid } }), name);
  const platformaticOp = async () => { await platformatic.send({ messages: [{ topic, value: payload }] }); return 1; };
  const kjsOp = async () => { await kjs.send({ topic, acks: -1, messages: [{ value: payload }] }); return 1; };
  const max: Record<string, Sample[]> = {};
  const push = (k: string, s: Sample) => (max[k] ??= []).push(s);
  const names = {
    plugin: `plugin Publish (ghz, c=${c}, ${conn} connections)`,
    bare: `bare grpc-js Publish (ghz, c=${c}, ${conn} connections)`,
    pluginGo: `plugin Publish (Go client, ${c} callers, ${conn} connections)`,
    platformatic: (n: number) => `@platformatic/kafka send, 1 record/call, ${n} callers`,
    kafkajs: (n: number) => `kafkajs 2.2.4 send, 1 record/call, ${n} callers`,
  };
  try {
    log('unary: warm-up');
    await ghzOn(plugin, 'plugin', P.firstWarmupMs);
    if (bare !== undefined) await ghzOn(bare, 'bare', P.firstWarmupMs);
    await closedLoop(platformaticOp, 16, P.warmupMs, size);
    await closedLoop(kjsOp, 16, P.warmupMs, size);
    for (let r = 0; r < P.rounds; r++) {
      log(`unary round ${r + 1}/${P.rounds} (saturating)`);
      push(names.plugin, await ghzOn(plugin, 'plugin', P.unaryMs));
      if (bare !== undefined) push(names.bare, await ghzOn(bare, 'bare', P.unaryMs));
      push(names.pluginGo, fromGo(await goLoad({ addr: plugin.address, mode: 'publish', topic, size, callers: c, conns: conn, warmupMs: P.warmupMs, durationMs: P.unaryMs, pids: { plugin: plugin.pid, broker: brokerPid } }), 'plugin'));
      for (const n of P.directCallers) {
        push(names.platformatic(n), await direct(() => closedLoop(platformaticOp, n, P.unaryMs, size), brokerPid));
        push(names.kafkajs(n), await direct(() => closedLoop(kjsOp, n, P.unaryMs, size), brokerPid));
      }
    }
    for (const [k, v] of Object.entries(max)) addRow('unary Publish, 100 B, saturating', k, columns(v), errorNote(v));

    // Latency against load: the same fixed rates through the plugin, the bare server and the direct client.
    const top = median(max[names.plugin]!.map((s) => s.recordsPerSec));
    const points: LatencyPoint[] = [];
    const at = (path: string, load: string, rate: number) => {
      let p = points.find((x) => x.path === path && x.load === load);
      if (p === undefined) points.push((p = { path, load, rate, samples: [] }));
      return p;
    };
    for (let r = 0; r < P.rounds; r++) {
      for (const f of P.loadFractions) {
        const rate = Math.max(1, Math.round(top * f));
        log(`unary round ${r + 1}/${P.rounds} at ${rate}/s (${f * 100}% of the plugin's maximum)`);
        const load = `${f * 100}%`;
        at('plugin (ghz)', load, rate).samples.push(await ghzOn(plugin, 'plugin', P.unaryMs, rate));
        if (bare !== undefined) at('bare grpc-js (ghz)', load, rate).samples.push(await ghzOn(bare, 'bare', P.unaryMs, rate));
        at('@platformatic/kafka direct, 1 record/call', load, rate).samples.push(await direct(() => openLoop(platformaticOp, rate, P.unaryMs, size), brokerPid));
      }
    }
    for (const p of points) {
      const behind = p.samples.filter((x) => x.recordsPerSec < 0.95 * p.rate!).length;
      const note = [errorNote(p.samples), behind === 0 ? undefined : `${behind} round(s) below 95% of the asked rate: overloaded, latency is queueing`].filter((x) => x !== undefined).join('; ');
      addRow('unary Publish, 100 B, fixed rate (open loop)', `${p.path} at ${p.load} of the plugin's max (${p.rate}/s)`, columns(p.samples), note || undefined);
    }
    // The saturating runs close each path's latency curve.
    points.push({ path: 'plugin (ghz)', load: 'max', samples: max[names.plugin]! });
    if (bare !== undefined) points.push({ path: 'bare grpc-js (ghz)', load: 'max', samples: max[names.bare]! });
    const d = max[names.platformatic(Math.max(...P.directCallers))];
    if (d !== undefined) points.push({ path: '@platformatic/kafka direct, 1 record/call', load: 'max', samples: d });
    return { points, max };
  } finally {
    await platformatic.close();
    await kjs.disconnect();
  }
}

