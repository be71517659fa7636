import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { assertClean, generatedPasswords, mask, report, scanFiles } from '../log-scan/scan.ts';

/** The log scanner itself: it must catch a planted secret, say where, and never print the secret. */
describe('log scan', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'log-scan-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'INFO', time: '2026-11-27T00:00:00.000Z', service: 'prism-kafka-plugin', ...fields });

  it('finds a planted secret, in plain and JSON-escaped form, naming file and line with the secret masked', () => {
    const d = dir();
    const secret = `s3cr"et-${randomBytes(8).toString('hex')}`;
    const file = join(d, 'plugin--in-process-plugin--1-1.log');
    writeFileSync(file, [
      line({ msg: 'kafka plugin initialized', sasl_enabled: true }),
      line({ msg: 'request failed', error: 'nothing to see' }),
      line({ msg: `login failed with ${secret}` }),
      `plain stderr text carrying ${secret}`,
      line({ msg: 'done' }),
      '',
    ].join('\n'));
    const result = scanFiles([file], [secret]);
    expect(result).toMatchObject({ files: 1, lines: 5, secrets: 1 });
    expect(result.findings.map((f) => f.line)).toEqual([3, 4]);
    const text = report(result);
    expect(text).toContain('plugin--in-process-plugin--1-1.log:3: registered secret');
    expect(text).toContain(mask(secret));
    expect(text).not.toContain(secret);
    expect(() => assertClean(result)).toThrow(/2 findings/);
    try {
      assertClean(result);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('flags secret-named fields with clear values, not redacted ones', () => {
    const d = dir();
    const file = join(d, 'x.log');
    writeFileSync(file, [
      line({ msg: 'ok', password: '[REDACTED]', token: '[REDACTED]', secret_id: '[REDACTED]' }),
      line({ msg: 'leak', sasl_password: 'hunter2hunter2' }),
      line({ msg: 'leak', auth: { client_token: 'hvs.abcdefghijk' } }),
      line({ msg: 'fine', token_ttl: '4s', password_file: '/run/secret', tokens: 3 }),
      line({ msg: 'escaped inside a message: "token":"not-a-field"' }),
    ].join('\n'));
    const result = scanFiles([file], []);
    expect(result.findings.map((f) => [f.line, f.what.split(' with')[0]])).toEqual([[2, 'field "sasl_password"'], [3, 'field "client_token"']]);
    expect(report(result)).not.toContain('hunter2hunter2');
  });

  it('passes a clean run and fails a scan of nothing', () => {
    const d = dir();
    const file = join(d, 'clean.log');
    writeFileSync(file, `${line({ msg: 'hello' })}\n`);
    expect(() => assertClean(scanFiles([file], ['a-secret-value']))).not.toThrow();
    expect(() => assertClean(scanFiles([], ['a-secret-value']))).toThrow(/scan of nothing proves nothing/);
    const empty = join(d, 'empty.log');
    writeFileSync(empty, '');
    expect(() => assertClean(scanFiles([empty], ['a-secret-value']))).toThrow(/no log lines/);
  });

  it('collects the admin passwords the infrastructure generated under .cache', () => {
    const d = dir();
    mkdirSync(join(d, 'infra', 'kafka'), { recursive: true });
    mkdirSync(join(d, 'faults', 'vault', 'kafka-1'), { recursive: true });
    writeFileSync(join(d, 'infra', 'kafka', 'admin.password'), 'first-password\n');
    writeFileSync(join(d, 'faults', 'vault', 'kafka-1', 'admin.password'), 'second-password');
    expect(generatedPasswords(d).sort()).toEqual(['first-password', 'second-password']);
  });
});
