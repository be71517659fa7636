// The function adapter: cold start (process start → first publish acknowledged) and warm overhead against the direct
// client in the same process (bench/function-child.ts), and the size of the two bundles.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { log, median, quantile, track } from './lib.ts';
import { newTopic } from './infra.ts';
import { brokers, P } from './params.ts';
import { distDir, root } from './paths.ts';
import { addRow } from './results.ts';

export async function functionScenario(): Promise<{ coldMs: number; overheadMs: number }> {
  const topic = await newTopic('function');
  const colds: number[] = [];
  const loads: number[] = [];
  const firsts: number[] = [];
  let fn: number[] = [];
  let direct: number[] = [];
  for (let r = 0; r < P.rounds; r++) {
    log(`function round ${r + 1}/${P.rounds}`);
    const out = await new Promise<string>((resolve, reject) => {
      const child = track(spawn(process.execPath, [join(root, 'bench/function-child.ts'), join(distDir, 'function.mjs'), topic, '3', String(Math.round(P.fnPerRound / 3))], {
        cwd: root, env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: brokers, KAFKA_COMPRESSION: 'none', PRISM_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'],
      }));
      let so = '';
      let se = '';
      child.stdout!.on('data', (b: Buffer) => (so += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (se += b.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(so) : reject(new Error(`function child exited ${code}: ${se.slice(-500)}`))));
    });
    const res = JSON.parse(out.split('\n').find((l) => l.startsWith('BENCH '))!.slice(6)) as { loadMs: number; firstMs: number; coldMs: number; fn: number[]; direct: number[] };
    colds.push(res.coldMs);
    loads.push(res.loadMs);
    firsts.push(res.firstMs);
    fn = fn.concat(res.fn);
    direct = direct.concat(res.direct);
  }
  const cm = addRow('function adapter', 'cold start: process start → first publish acked', { 'total ms': colds, 'bundle load ms': loads, 'first invocation ms': firsts }, 'node boot + import function.mjs + connect + publish');
  const fm = addRow('function adapter', 'warm publish via handler (sequential)', { 'p50 ms': [median(fn)], 'p99 ms': [quantile(fn, 0.99)] }, `${fn.length} invocations`);
  const dm = addRow('function adapter', '@platformatic/kafka send (sequential, same process)', { 'p50 ms': [median(direct)], 'p99 ms': [quantile(direct, 0.99)] }, `${direct.length} sends, alternating blocks`);
  return { coldMs: cm['total ms']!, overheadMs: fm['p50 ms']! - dm['p50 ms']! };
}

export function bundleScenario(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['server', 'function']) {
    const kib = statSync(join(distDir, `${name}.mjs`)).size / 1024;
    out[name] = kib;
    addRow('bundle size', `${name}.mjs`, { KiB: [kib] });
  }
  return out;
}
