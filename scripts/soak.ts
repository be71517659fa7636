// npm run soak -- --minutes N [--load-seconds S] [--only rebalance-storm,plugin-kill]
// Runs the fault suite (test/faults) round after round for N minutes, each scenario keeping its load up for S seconds
// (60 by default; CI uses a few), then prints per-scenario totals of sent/acked/delivered/duplicated/lost/skipped.
// --only runs just the fault test files whose names contain one of the given words (vitest's file filter).
// Exits non-zero when a round fails or anything acknowledged was lost or skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, 'load-seconds': { type: 'string', default: '60' }, only: { type: 'string', default: '' } } });
const only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
const minutes = Number(values.minutes);
const loadSeconds = Number(values['load-seconds']);
for (const [flag, v] of [['--minutes', minutes], ['--load-seconds', loadSeconds]] as const) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`soak: ${flag} must be a positive number, got ${JSON.stringify(flag === '--minutes' ? values.minutes : values['load-seconds'])}`);
    process.exit(2);
  }
}

mkdirSync(join(root, '.cache/faults'), { recursive: true });
const report = join(root, '.cache/faults', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
const deadline = Date.now() + minutes * 60_000;
let rounds = 0;
let failedRounds = 0;
do {
  rounds += 1;
  console.log(`soak: round ${String(rounds)} (load ${String(loadSeconds)} s per scenario, ${String(Math.max(0, Math.round((deadline - Date.now()) / 60_000)))} min left)`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'faults', ...only], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PRISM_FAULTS_LOAD_SECONDS: String(loadSeconds), PRISM_FAULTS_REPORT: report },
  });
  if (r.status !== 0) failedRounds += 1;
} while (Date.now() < deadline);

// `skipped` is absent from reports written before the books could see skips.
interface Row { scenario: string; sent: number; acked: number; delivered: number; duplicated: number; lost: number; skipped?: number; failures: Record<string, number> }
const rows = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row) : [];
const totals = new Map<string, Row & { runs: number }>();
for (const r of rows) {
  const t = totals.get(r.scenario) ?? { scenario: r.scenario, runs: 0, sent: 0, acked: 0, delivered: 0, duplicated: 0, lost: 0, skipped: 0, failures: {} };
  t.runs += 1;
  for (const k of ['sent', 'acked', 'delivered', 'duplicated', 'lost'] as const) t[k] += r[k];
  t.skipped = (t.skipped ?? 0) + (r.skipped ?? 0);
  for (const [code, n] of Object.entries(r.failures)) t.failures[code] = (t.failures[code] ?? 0) + n;
  totals.set(r.scenario, t);
}
const cols = ['scenario', 'runs', 'sent', 'acked', 'delivered', 'duplicated', 'lost', 'skipped', 'failed calls'];
const table = [...totals.values()].map((t) => [t.scenario, t.runs, t.sent, t.acked, t.delivered, t.duplicated, t.lost, t.skipped ?? 0,
  Object.entries(t.failures).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '-'].map(String));
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nsoak: ${String(rounds)} round(s) in ${String(minutes)} min, ${String(failedRounds)} failed; report ${report}`);
console.log(line(cols));
for (const row of table) console.log(line(row));
// Lost already counts the skipped ones (each message once).
const lost = [...totals.values()].reduce((n, t) => n + t.lost, 0);
process.exit(failedRounds > 0 || lost > 0 || rows.length === 0 ? 1 : 0);
