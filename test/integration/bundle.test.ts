import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client, listServices } from '../support/grpc-client.ts';
import { spawnNode } from '../support/process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Read here, independently of core/version.ts: the bundle has no package.json near it and must carry this. */
const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
let dir: string;

/** Builds the bundle and copies it to a directory with no node_modules anywhere above it. */
beforeAll(() => {
  const build = mkdtempSync(join(tmpdir(), 'prism-build-'));
  execFileSync(process.execPath, ['build.mjs'], { cwd: root, env: { ...process.env, PRISM_BUILD_OUTDIR: build }, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'prism-bundle-'));
  cpSync(build, join(dir, 'dist'), { recursive: true });
  rmSync(build, { recursive: true, force: true });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (env: Record<string, string>, args: string[] = []) =>
  spawnNode(['dist/server.mjs', ...args], { cwd: dir, env: { PRISM_LISTEN_HOST: '127.0.0.1', PRISM_CONTROL_PLANE_PORT: '0', ...env } });

describe('the server bundle, run with no node_modules present', () => {
  it('has no node_modules beside or above it', () => {
    let d = dir;
    while (d !== '/') {
      expect(existsSync(join(d, 'node_modules'))).toBe(false);
      d = join(d, '..');
    }
  });

  it('starts against the real broker, logs the seed start-up line, serves health, and stops cleanly on SIGTERM', async () => {
    const p = start({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: 'bundle-events' });
    try {
      const line = await p.waitForLog('kafka plugin initialized');
      expect(line).toMatchObject({ level: 'INFO', version: packageVersion, brokers: [inject('kafkaBrokers')], topic: 'bundle-events', sasl_enabled: false });
      expect(new Date(line.time as string).toISOString()).toBe(line.time);
      const address = `127.0.0.1:${String(line.port)}`;

      const health = client(address, 'grpc.health.v1.Health');
      let status = '';
      for (let i = 0; i < 100 && status !== 'SERVING'; i++) {
        status = (await call<{ status: string }>(health, 'Check', { service: 'kafka' })).status;
        if (status !== 'SERVING') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('SERVING');
      const lifecycle = client(address, 'prism.interfaces.LifecycleInterface');
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY' });
      // Reflection's own messages are read from the standard protos copied beside the bundle (dist/proto/grpc/).
      expect(await listServices(address)).toEqual(expect.arrayContaining(['prism.interfaces.queue.QueueBasicInterface', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']));
      health.close();
      lifecycle.close();

      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(JSON.parse(p.stdout.filter(Boolean).at(-1)!)).toMatchObject({ msg: 'kafka plugin stopped', level: 'INFO' });
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('prints the version package.json gives, injected at build time', async () => {
    const p = start({}, ['--version']);
    expect((await p.exited).code).toBe(0);
    expect(p.stdout.join('\n').trim()).toBe(`prism-kafka-plugin ${packageVersion}`);
  });

  it('prints its flags with --help', async () => {
    const p = start({}, ['--help']);
    expect((await p.exited).code).toBe(0);
    expect(p.stdout.join('\n')).toContain('--grpc-port');
  });

  describe('exits non-zero with a one-screen message naming the problem', () => {
    const yaml = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    it.each([
      ['KAFKA_COMPRESSION=brotli', () => ({ KAFKA_COMPRESSION: 'brotli' }), 'env KAFKA_COMPRESSION: expected one of none, gzip, snappy, lz4, zstd, got "brotli"'],
      ['KAFKA_BROKERS=":::"', () => ({ KAFKA_BROKERS: ':::' }), 'env KAFKA_BROKERS (entry 1): expected host:port'],
      ['a YAML file with a misspelt key', () => ({ PRISM_PLUGIN_CONFIG: yaml('misspelt.yaml', 'backend:\n  topik: orders\n') }), 'backend.topik: unknown key (did you mean topic?)'],
      ['control_plane.port = 70000', () => ({ PRISM_PLUGIN_CONFIG: yaml('port.yaml', 'control_plane:\n  port: 70000\n') }), 'control_plane.port: expected the gRPC/HTTP port: a whole number from 0 to 65535, got 70000'],
      ['a missing config file path', () => ({ PRISM_PLUGIN_CONFIG: '/no/such/prism.yaml' }), 'env PRISM_PLUGIN_CONFIG: cannot read configuration file "/no/such/prism.yaml": no such file'],
    ])('%s', async (_name, env, expected) => {
      // No port from the environment here: it would override the file's control_plane.port.
      const p = spawnNode(['dist/server.mjs'], { cwd: dir, env: { ...env(), KAFKA_SASL_PASSWORD: 'never-print-me' } });
      const { code } = await p.exited;
      expect(code).toBe(2);
      const err = p.stderr();
      expect(err).toContain(expected);
      expect(err.split('\n').length).toBeLessThan(24);
      expect(err).not.toMatch(/^\s+at /m);
      expect(err + p.stdout.join('\n')).not.toContain('never-print-me');
    });
  });
});
