// The run's plot (bench/results/<time>.svg, copied to docs/bench/latest.svg for the README): PublishBatch throughput
// and CPU per record against batch size, a line per path, the Java producer as the ceiling; unary Publish latency
// percentiles against load.
import { median } from './lib.ts';
import type { Sample } from './sample.ts';
import { renderSvg, type Panel, type Series } from './svg.ts';
import type { SweepPoint } from './sweep.ts';
import type { LatencyPoint } from './unary.ts';

const colors: Record<string, string> = { plugin: '#d62728', bare: '#7f7f7f', platformatic: '#1f77b4', kafkajs: '#2ca02c', ceiling: '#000000' };
const colorOf = (path: string) => colors[Object.keys(colors).find((k) => path.toLowerCase().includes(k)) ?? 'ceiling']!;
const med = (samples: Sample[], f: (s: Sample) => number) => median(samples.map(f).filter(Number.isFinite));
const perRecord = (ms: number | undefined, s: Sample) => (ms === undefined || s.records === 0 ? NaN : (ms * 1000) / s.records);

export interface PlotInput { title: string; subtitle: string; sweep: SweepPoint[]; latency: LatencyPoint[]; ceiling?: { recordsPerSec: number; usPerRecord: number } }

export function plot(input: PlotInput): string {
  const throughput: Series[] = [];
  const cpu: Series[] = [];
  for (const path of [...new Set(input.sweep.map((p) => p.path))]) {
    const points = input.sweep.filter((p) => p.path === path);
    const callers = [...new Set(points.map((p) => p.callers))].sort((a, b) => a - b);
    const batches = [...new Set(points.map((p) => p.batch))].sort((a, b) => a - b);
    // At each batch size the best callers count (by median rate), and with one caller when there are several.
    const best = batches.map((b) => points.filter((p) => p.batch === b).reduce((x, y) => (med(y.samples, (s) => s.recordsPerSec) > med(x.samples, (s) => s.recordsPerSec) ? y : x)));
    const label = callers.length > 1 ? `${path}, best of ${callers.join('/')} callers` : `${path}, ${callers[0]} callers`;
    throughput.push({ label, color: colorOf(path), points: best.map((p) => [p.batch, med(p.samples, (s) => s.recordsPerSec)]) });
    if (callers.length > 1) {
      throughput.push({ label: `${path}, 1 caller`, color: colorOf(path), dash: '2 3', points: points.filter((p) => p.callers === callers[0]).map((p) => [p.batch, med(p.samples, (s) => s.recordsPerSec)]) });
    }
    const server = points.some((p) => p.samples.some((s) => s.cpuMs.server !== undefined));
    cpu.push({
      label: `${path}: ${server ? 'server' : 'client library'} CPU`,
      color: colorOf(path),
      points: best.map((p) => [p.batch, med(p.samples, (s) => perRecord(server ? s.cpuMs.server : s.cpuMs.gen, s))]),
    });
  }
  const latency: Series[] = [];
  const dashes: [string, keyof Sample, string | undefined][] = [['p99', 'p99Ms', undefined], ['p90', 'p90Ms', '6 3'], ['p50', 'p50Ms', '2 3']];
  for (const path of [...new Set(input.latency.map((p) => p.path))]) {
    const points = input.latency.filter((p) => p.path === path);
    for (const [name, key, dash] of dashes) {
      latency.push({ label: `${path} ${name}`, color: colorOf(path), ...(dash === undefined ? {} : { dash }), points: points.map((p) => [med(p.samples, (s) => s.recordsPerSec), med(p.samples, (s) => s[key] as number)]) });
    }
  }
  const panels: Panel[] = [
    { title: 'PublishBatch throughput (100 B records)', xLabel: 'records per call (batch size)', yLabel: 'records/s', xLog: true, yLog: true, series: throughput,
      hlines: input.ceiling === undefined ? [] : [{ label: 'kafka-producer-perf-test (JVM): ceiling', y: input.ceiling.recordsPerSec, color: colors.ceiling! }] },
    { title: 'CPU per record (at the best callers count)', xLabel: 'records per call (batch size)', yLabel: 'CPU µs per record', xLog: true, yLog: true, series: cpu,
      hlines: input.ceiling === undefined ? [] : [{ label: 'kafka-producer-perf-test (JVM) CPU', y: input.ceiling.usPerRecord, color: colors.ceiling! }] },
    { title: 'Unary Publish latency against load', xLabel: 'calls/s answered', yLabel: 'latency ms', xLog: false, yLog: true, series: latency },
  ];
  return renderSvg(input.title, input.subtitle, panels);
}
