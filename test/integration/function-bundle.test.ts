import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnNode } from '../support/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
let dir: string;
let buildOutput: string;

/**
 * Builds the bundles and copies what a function deployment holds — dist/function.mjs and the proto files beside
 * it, nothing else — plus the invoke script, to a directory with no node_modules above it.
 */
beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'prism-fn-build-'));
  buildOutput = execFileSync(process.execPath, ['build.mjs'], { cwd: root, env: { ...process.env, PRISM_BUILD_OUTDIR: out }, encoding: 'utf8' });
  dir = mkdtempSync(join(tmpdir(), 'prism-fn-bundle-'));
  mkdirSync(join(dir, 'dist'));
  cpSync(join(out, 'function.mjs'), join(dir, 'dist', 'function.mjs'));
  cpSync(join(out, 'proto'), join(dir, 'dist', 'proto'), { recursive: true });
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(root, 'scripts', 'invoke.mjs'), join(dir, 'scripts', 'invoke.mjs'));
  rmSync(out, { recursive: true, force: true });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const brokers = () => inject('kafkaBrokers');
const topic = (what: string) => `fn-bundle-${what}-${Date.now().toString(36)}`;
const invoke = (args: string[]) => run(process.execPath, ['scripts/invoke.mjs', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: brokers() } });

describe('the function bundle, run with no node_modules present', () => {
  it('is built by npm run build, which prints its size', () => {
    expect(buildOutput).toMatch(/built .*function\.mjs: \d+ KiB/);
    let d = dir;
    while (d !== '/') {
      expect(existsSync(join(d, 'node_modules'))).toBe(false);
      d = join(d, '..');
    }
  });

  it('is invoked locally with npm run invoke: publish, then tail it back, then a bad request', async () => {
    const t = topic('invoke');
    const published = JSON.parse((await invoke(['publish', JSON.stringify({ topic: t, payload: Buffer.from('hi').toString('base64'), messageId: 'inv-1' })])).stdout) as Record<string, unknown>;
    expect(published).toMatchObject({ messageId: 'inv-1', topic: t, offset: '0' });
    const tailed = JSON.parse((await invoke(['tail', JSON.stringify({ topic: t, start: 'earliest', maxEvents: 1 }), '--timing'])).stdout) as { events: { payload: string }[]; cursor: string };
    expect(tailed.events.map((e) => Buffer.from(e.payload, 'base64').toString())).toEqual(['hi']);
    expect(tailed.cursor).not.toBe('');
    const failed = await invoke(['publish', JSON.stringify({ topic: 'a/b' })]).then(() => ({ code: 0, stderr: '' }), (e: unknown) => e as { code: number; stderr: string });
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stderr.trim().split('\n').at(-1)!)).toMatchObject({ code: 'INVALID_ARGUMENT', request_id: expect.any(String) as string });
    const http = JSON.parse((await invoke(['health', '{}', '--http'])).stdout) as { statusCode: number; body: string };
    expect(http.statusCode).toBe(200);
    expect(JSON.parse(http.body)).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
  });

  it('opens its broker connections once for 1,000 warm invocations in one process (counted with ss)', async () => {
    const t = topic('warm');
    const script = `
      import { execFileSync } from 'node:child_process';
      import { handler, runtime } from './dist/function.mjs';
      const port = process.env.KAFKA_BROKERS.split(':').at(-1);
      // This process's established TCP connections to the broker, by local address.
      const sockets = () => execFileSync('ss', ['-tnpH', 'state', 'established', \`( dport = :\${port} )\`], { encoding: 'utf8' })
        .split('\\n').filter((l) => l.includes(\`pid=\${process.pid},\`)).map((l) => l.trim().split(/\\s+/)[2]).sort();
      const ctx = () => { const until = Date.now() + 10000; return { awsRequestId: 'warm', getRemainingTimeInMillis: () => until - Date.now() }; };
      const topic = ${JSON.stringify(t)};
      const ops = [
        { operation: 'publish', request: { topic, payload: 'eA==', key: 'aw==' } },
        { operation: 'publish_batch', request: { messages: [{ topic, payload: 'eQ==', key: 'aw==' }] } },
        { operation: 'append', request: { topic, payload: 'eg==', key: 'aw==' } },
        { operation: 'query', request: { topic, limit: 5 } },
        { operation: 'tail', request: { topic, start: 'earliest', maxEvents: 2 } },
        { operation: 'health', request: {} },
        { operation: 'get_offsets', request: { topic, group: topic + '-g' } },
      ];
      const before = sockets();
      for (const op of ops) await handler(op, ctx());
      const afterFirstRound = sockets();
      for (let i = ops.length; i < 1000; i++) await handler(ops[i % ops.length], ctx());
      const after1000 = sockets();
      const group = { operation: 'consume_batch', request: { topic, group: topic + '-g', maxMessages: 5, maxWaitMs: 500 } };
      const acked = async () => { const b = await handler(group, ctx()); await handler({ operation: 'ack', request: { receipts: b.messages.map((m) => m.receipt) } }, ctx()); return b.messages.length; };
      const consumed = await acked();
      const afterConsume = sockets();
      await acked();
      const afterSecondConsume = sockets();
      console.log(JSON.stringify({ before, afterFirstRound, after1000, afterConsume, afterSecondConsume, consumed, stats: runtime.cacheStats }));
      await runtime.close();
      console.log(JSON.stringify({ afterClose: sockets() }));
      process.exit(0);
    `;
    writeFileSync(join(dir, 'warm.mjs'), script);
    const { stdout } = await run(process.execPath, ['warm.mjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: brokers(), PRISM_LOG_LEVEL: 'warn' }, maxBuffer: 1 << 24 });
    const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{"before"') || l.startsWith('{"afterClose"'));
    const counts = JSON.parse(lines[0]!) as { before: string[]; afterFirstRound: string[]; after1000: string[]; afterConsume: string[]; afterSecondConsume: string[]; consumed: number; stats: { builds: number } };
    const { afterClose } = JSON.parse(lines[1]!) as { afterClose: string[] };
    console.log(`broker connections: before ${counts.before.length}, after the first round ${counts.afterFirstRound.length}, after 1000 invocations ${counts.after1000.length} (same local ports: ${String(counts.after1000.join() === counts.afterFirstRound.join())}), after consume_batch+ack ${counts.afterConsume.length}, after close ${afterClose.length}; connection builds ${counts.stats.builds}`);
    expect(counts.before).toEqual([]);
    expect(counts.afterFirstRound.length).toBeGreaterThan(0);
    // The very same sockets (local ports) after 1,000 invocations: nothing was reopened.
    expect(counts.after1000).toEqual(counts.afterFirstRound);
    expect(counts.stats.builds).toBe(1);
    // consume_batch joins with a member of its own and closes its coordinator and fetch connections before answering;
    // the group client it reads metadata with is cached like every other, so a second consume_batch opens nothing.
    expect(counts.consumed).toBeGreaterThan(0);
    expect(counts.afterConsume).toEqual(expect.arrayContaining(counts.after1000));
    expect(counts.afterSecondConsume).toEqual(counts.afterConsume);
    expect(afterClose).toEqual([]);
  });

  it('closes its connections on SIGTERM and exits 0', async () => {
    writeFileSync(join(dir, 'sigterm.mjs'), `
      import { handler } from './dist/function.mjs';
      await handler({ operation: 'health' }, { awsRequestId: 'boot', getRemainingTimeInMillis: () => 5000 });
      console.log(JSON.stringify({ msg: 'warm' }));
      setInterval(() => undefined, 1000);
    `);
    const p = spawnNode(['sigterm.mjs'], { cwd: dir, env: { KAFKA_BROKERS: brokers() } });
    try {
      await p.waitForLog('warm');
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      const msgs = p.stdout.map((l) => (JSON.parse(l || '{}') as { msg?: string }).msg);
      expect(msgs).toEqual(expect.arrayContaining(['shutdown requested (SIGTERM): closing kafka connections', 'kafka connections closed', 'kafka function runtime stopped']));
    } finally {
      p.child.kill('SIGKILL');
    }
  });
});
