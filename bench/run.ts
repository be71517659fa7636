// `npm run bench [-- --quick] [-- --only sweep,unary,ceiling,consume,query,tail,function,bundle]` (bench/params.ts)
//
// Every scenario through the plugin (its server.mjs built into .cache/bench/dist, run in a child process) with load
// generators that are not the bottleneck (ghz for unary calls, the compiled Go client of bench/go for batches and
// streams, both sending pre-built requests), beside the bare grpc-js server (the transport floor), the direct clients (@platformatic/kafka, kafkajs)
// and Kafka's Java producer (the ceiling), in the same run. Headline: the plugin's CPU per record (/proc) beside its
// rate. Prints a table and the issue's targets (met or missed, never asserted); writes bench/results/<time>.json and
// .svg, and copies the plot to docs/bench/latest.svg.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ceilingScenario } from './ceiling.ts';
import { consumeScenario } from './consume.ts';
import { bundleScenario, functionScenario } from './function.ts';
import { brokerPid, cleanUp, ensureBroker } from './infra.ts';
import { fmt, killChildren, log, median, sleep } from './lib.ts';
import { ensureLoadTools } from './load.ts';
import { brokers, only, P, profile, quick, runId } from './params.ts';
import { distDir, root } from './paths.ts';
import { plot } from './plot.ts';
import { queryScenario } from './query.ts';
import { addRow, extra, isMet, printTable, printTargets, rows, targets } from './results.ts';
import { describeMemory, memory, startBare, startPlugin, stop, type Memory, type Server } from './servers.ts';
import type { Sample } from './sample.ts';
import { sweepScenario, type SweepPoint } from './sweep.ts';
import { tailScenario } from './tail.ts';
import { unaryScenario, type UnaryResult } from './unary.ts';

const med = (samples: Sample[] | undefined, f: (s: Sample) => number) => (samples === undefined ? NaN : median(samples.map(f).filter(Number.isFinite)));
const usPerRecord = (s: Sample) => (s.cpuMs.server === undefined || s.records === 0 ? NaN : (s.cpuMs.server * 1000) / s.records);

function sweepTargets(sweep: SweepPoint[]): void {
  const best = (path: string, batch: number) => sweep.filter((p) => p.path.startsWith(path) && p.batch === batch)
    .reduce<SweepPoint | undefined>((x, y) => (x === undefined || med(y.samples, (s) => s.recordsPerSec) > med(x.samples, (s) => s.recordsPerSec) ? y : x), undefined);
  const batch = Math.max(...P.batches);
  const g = best('plugin', batch);
  const d = best('@platformatic', batch);
  if (g === undefined || d === undefined) return;
  targets.push({ name: `PublishBatch of ${batch} × 100 B: plugin / direct batched client (best callers each: ${g.callers} / ${d.callers})`, measured: med(g.samples, (s) => s.recordsPerSec) / med(d.samples, (s) => s.recordsPerSec), target: 0.5, unit: '×', higherIsBetter: true });
  targets.push({ name: `PublishBatch of ${batch} × 100 B: plugin CPU per record (${g.callers} callers)`, measured: med(g.samples, usPerRecord), target: 4, unit: 'µs', higherIsBetter: false });
}

function unaryTargets(u: UnaryResult): void {
  const plugin = Object.entries(u.max).find(([k]) => k.startsWith('plugin Publish (ghz'))?.[1];
  const bare = Object.entries(u.max).find(([k]) => k.startsWith('bare'))?.[1];
  const direct64 = Object.entries(u.max).find(([k]) => k.startsWith('@platformatic') && k.endsWith(' 64 callers'))?.[1];
  targets.push({ name: 'unary Publish (ghz, saturating): plugin CPU per call / bare grpc-js server CPU per call', measured: med(plugin, usPerRecord) / med(bare, usPerRecord), target: 1.3, unit: '×', higherIsBetter: false });
  targets.push({ name: 'unary Publish: plugin (ghz, c=64) / direct per-call client at 64 callers', measured: med(plugin, (s) => s.recordsPerSec) / med(direct64, (s) => s.recordsPerSec), target: 1, unit: '×', higherIsBetter: true });
  const half = (path: string) => u.points.find((p) => p.path.startsWith(path) && p.load === '50%');
  const [g, d] = [half('plugin'), half('@platformatic')];
  // A path that did not keep up with the asked rate measured its own queue, not the latency at that load.
  const behind = [g, d].filter((p) => p !== undefined && med(p.samples, (s) => s.recordsPerSec) < 0.95 * p.rate!).map((p) => p!.path);
  const added = med(g?.samples, (s) => s.p99Ms) - med(d?.samples, (s) => s.p99Ms);
  // A direct baseline slower than the path that wraps it was disturbed (the machine's other work, its own queue).
  const invalid = behind.length > 0 ? `${behind.join(', ')} fell behind the asked rate` : added < 0 ? `the direct baseline's p99 exceeds the plugin's (${fmt(added, 1)} ms): the baseline was disturbed` : undefined;
  targets.push({
    name: `unary Publish: added p99 at half the plugin's maximum (${g?.rate ?? '?'}/s; plugin via ghz − direct per call)`,
    measured: added, target: 2, unit: 'ms', higherIsBetter: false, ...(invalid === undefined ? {} : { invalid }),
  });
}

async function main(): Promise<void> {
  const startedAt = new Date();
  await ensureBroker();
  log(`building the bundles into ${distDir.slice(root.length + 1)} (node build.mjs)`);
  // A profiled run keeps the bundle unminified: bench/profile-top.ts attributes samples by esbuild's module comments.
  execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'], env: { ...process.env, PRISM_BUILD_OUTDIR: distDir, ...(profile ? { PRISM_BUILD_MINIFY: '0' } : {}) } });
  if (['sweep', 'unary', 'consume', 'query'].some((s) => only.has(s))) ensureLoadTools();
  const plugin = await startPlugin();
  const bare = only.has('sweep') || only.has('unary') ? await startBare() : undefined;
  const broker = brokerPid();
  log(`plugin pid ${plugin.pid} at ${plugin.address}${bare === undefined ? '' : `, bare grpc-js server pid ${bare.pid} at ${bare.address}`}; run ${runId}${quick ? ' (quick)' : ''}`);
  await sleep(500);
  const snapshots: { after: string; plugin: Memory; bare?: Memory }[] = [];
  const snap = async (after: string, server: Server = plugin) => {
    const bareRunning = bare !== undefined && bare.child.exitCode === null && bare.child.signalCode === null;
    const m = { after, plugin: await memory(server), ...(bareRunning ? { bare: await memory(bare, false) } : {}) };
    snapshots.push(m);
    log(`plugin memory after ${after}: ${describeMemory(m.plugin)}`);
  };
  await snap('start-up (idle)');
  let sweep: SweepPoint[] = [];
  let unary: UnaryResult | undefined;
  let ceiling: { recordsPerSec: number; usPerRecord: number } | undefined;
  const keys: Record<string, unknown> = {};
  try {
    if (only.has('sweep')) {
      sweep = await sweepScenario(plugin, bare, broker);
      sweepTargets(sweep);
      await snap('the PublishBatch sweep');
    }
    if (only.has('unary')) {
      unary = await unaryScenario(plugin, bare, broker);
      unaryTargets(unary);
      await snap('unary Publish');
    }
    await stop(bare);
    if (only.has('ceiling')) keys.ceiling = ceiling = await ceilingScenario();
    if (only.has('consume')) {
      const k = (keys.consume = await consumeScenario(plugin, broker));
      targets.push({ name: 'consume with acks, steady state: plugin / direct consumer (same window, prefetch, fetch)', measured: k.plugin / k.direct, target: 0.3, unit: '×', higherIsBetter: true });
      await snap('consume');
    }
    if (only.has('query')) {
      const k = (keys.query = await queryScenario(plugin, broker));
      targets.push({ name: 'query throughput through the Go client, 100 B records', measured: k.recordsPerSec, target: 250_000, unit: 'rec/s', higherIsBetter: true });
      await snap('query');
    }
    if (only.has('tail')) {
      const k = (keys.tail = await tailScenario(plugin));
      targets.push({ name: 'kept: tail end-to-end p99 at 500/s', measured: k.p99, target: 25, unit: 'ms', higherIsBetter: false });
      await snap('tail');
    }
    if (only.has('function')) {
      const k = (keys.function = await functionScenario());
      targets.push({ name: 'kept: function cold start (process start → first publish acked)', measured: k.coldMs, target: 300, unit: 'ms', higherIsBetter: false });
      targets.push({ name: 'kept: function warm overhead (handler p50 − direct send p50)', measured: k.overheadMs, target: 0.5, unit: 'ms', higherIsBetter: false });
    }
    if (only.has('bundle')) keys.bundle = bundleScenario();
  } finally {
    await stop(bare);
    await stop(plugin);
    killChildren();
    await cleanUp();
  }
  for (const s of snapshots) {
    addRow('plugin process memory', `after ${s.after}`, { 'VmHWM MB': [s.plugin.hwmMb], 'VmRSS MB': [s.plugin.rssMb], 'heap used MB': [s.plugin.heapUsedMb], 'heap total MB': [s.plugin.heapTotalMb], 'external MB': [s.plugin.externalMb] },
      s.bare === undefined ? undefined : `bare grpc-js server: VmHWM ${fmt(s.bare.hwmMb, 0)} MB`);
  }
  extra.memory = snapshots;
  const idle = snapshots[0]!.plugin;
  const peak = snapshots.at(-1)!.plugin;
  targets.push({ name: 'memory: plugin peak RSS (VmHWM) over every load of this run', measured: peak.hwmMb, target: 150, unit: 'MB', higherIsBetter: false });
  targets.push({ name: 'memory: plugin RSS idle after start-up', measured: idle.rssMb, target: 80, unit: 'MB', higherIsBetter: false });

  const cpus = os.cpus();
  const header = `${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), Node ${process.version}, broker ${brokers}, acks=all, compression none, 3 partitions; ${P.rounds} rounds of ${P.roundMs / 1000} s, median (±half the max−min spread)`;
  console.log(`# Prism Kafka plugin benchmark — ${startedAt.toISOString()}${quick ? ' (quick)' : ''}`);
  console.log(`# ${header}`);
  console.log('# srv µs/rec: CPU of the server under test (plugin or bare grpc-js) per record, from /proc; gen: the load generator (Go client, ghz, or the direct client library in the bench process); cores: CPU time / wall time');
  printTable();
  printTargets();
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const base = join(root, 'bench/results', `${startedAt.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ startedAt, finishedAt: new Date(), quick, runId, brokers, node: process.version, cpus: cpus.length, params: P, rows, targets: targets.map((t) => ({ ...t, met: t.invalid === undefined ? isMet(t) : null })), keys, sweep, unary, ceiling, extra }, null, 2)}\n`);
  const svg = plot({ title: `Prism Kafka plugin benchmark, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (quick)' : ''}`, subtitle: header, sweep, latency: unary?.points ?? [], ...(ceiling === undefined ? {} : { ceiling }) });
  writeFileSync(`${base}.svg`, svg);
  if (sweep.length > 0 || unary !== undefined) {
    mkdirSync(join(root, 'docs/bench'), { recursive: true });
    copyFileSync(`${base}.svg`, join(root, 'docs/bench/latest.svg'));
  }
  console.log(`\nresults: ${base.slice(root.length + 1)}.json, ${base.slice(root.length + 1)}.svg${sweep.length > 0 || unary !== undefined ? ' (copied to docs/bench/latest.svg)' : ''}  (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  killChildren();
  console.error(err);
  process.exit(1);
}
