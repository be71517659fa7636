// The run's rows (one per scenario and path: the median of its rounds and their spread), the targets of issue #18
// (reported as met or missed, never asserted) and the table printed at the end.
import { fmt, summary } from './lib.ts';

export interface Row { scenario: string; path: string; metric: Record<string, ReturnType<typeof summary>>; note?: string }
export const rows: Row[] = [];
/** Anything else worth keeping in the JSON (memory snapshots, raw tool output). */
export const extra: Record<string, unknown> = {};

/** Adds a row from per-round values; returns the medians. Non-finite values (a path that did not run) are dropped. */
export function addRow(scenario: string, path: string, results: Record<string, number[]>, note?: string): Record<string, number> {
  const metric = Object.fromEntries(Object.entries(results)
    .map(([k, v]) => [k, v.filter(Number.isFinite)] as const)
    .filter(([, v]) => v.length > 0)
    .map(([k, v]) => [k, summary(v)]));
  rows.push({ scenario, path, metric, ...(note === undefined ? {} : { note }) });
  return Object.fromEntries(Object.entries(metric).map(([k, v]) => [k, v.median]));
}

const digits = (k: string) => (k.includes('ms') || k.includes('cores') ? 2 : k.includes('µs') || k === 'MB/s' || k === 'MB' || k === 'KiB' ? 1 : 0);

export function printTable(): void {
  const lines: string[] = [];
  let last = '';
  for (const r of rows) {
    if (r.scenario !== last) lines.push(`\n## ${r.scenario}`);
    last = r.scenario;
    const cells = Object.entries(r.metric).map(([k, s]) => `${k} ${fmt(s.median, digits(k))}${s.rounds.length > 1 ? ` (±${fmt(s.spreadPct / 2, 0)}%)` : ''}`);
    lines.push(`  ${r.path.padEnd(58)} ${cells.join('  ')}${r.note === undefined ? '' : `  [${r.note}]`}`);
  }
  console.log(lines.join('\n'));
}

/** A target of the issue; `invalid` says why this run could not measure it (then it is neither met nor missed). */
export interface Target { name: string; measured: number; target: number; unit: string; higherIsBetter: boolean; invalid?: string }
export const targets: Target[] = [];
export const isMet = (t: Target) => Number.isFinite(t.measured) && (t.higherIsBetter ? t.measured >= t.target : t.measured <= t.target);

export function printTargets(): void {
  console.log('\n## targets of issue #18 (reported, not asserted)');
  for (const t of targets) {
    const d = t.unit === '×' ? 2 : t.unit === 'ms' || t.unit === 'µs' ? 1 : 0;
    const verdict = t.invalid !== undefined ? `not measured: ${t.invalid}` : isMet(t) ? 'met' : 'MISSED';
    console.log(`  ${t.name.padEnd(78)} measured ${fmt(t.measured, d)} ${t.unit}  target ${t.higherIsBetter ? '≥' : '≤'} ${fmt(t.target, d)} ${t.unit}  ${verdict}`);
  }
}
