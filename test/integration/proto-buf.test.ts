import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The comparison base for breaking changes: the last commit before the first round that set file options. Replace it
// with the previous release tag once there is one.
const previous = '.git#ref=9092ca4,subdir=proto';

/** buf as scripts/install-tools.sh installed it (the global set-up runs that script). */
const buf = () => join(inject('toolsBin'), 'buf');

/** Runs buf in `cwd`; the exit status with everything it printed, so a failing assertion shows buf's findings. */
function run(args: string[], cwd = root): { status: number | null; output: string } {
  const res = spawnSync(buf(), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: res.status, output: `${res.stdout}${res.stderr}${res.error?.message ?? ''}` };
}

const copies: string[] = [];
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A copy of buf.yaml and proto/ with one edit applied to a proto file. */
function editedCopy(file: string, from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'prism-buf-'));
  copies.push(dir);
  cpSync(join(root, 'buf.yaml'), join(dir, 'buf.yaml'));
  cpSync(join(root, 'proto'), join(dir, 'proto'), { recursive: true });
  const path = join(dir, 'proto', file);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
  return dir;
}

describe('buf (proto/ with buf.yaml)', () => {
  it('lints clean with STANDARD and the documented exceptions', () => {
    expect(run(['lint'])).toEqual({ status: 0, output: '' });
  });

  it('has no breaking change against the previous release', () => {
    expect(run(['breaking', '--against', previous])).toEqual({ status: 0, output: '' });
  });

  it('would report a renamed field as breaking (exit 100, naming it)', () => {
    const dir = editedCopy('prism/interfaces/pubsub/pubsub_basic.proto', 'string message_id = 2;', 'string id = 2;');
    const res = run(['breaking', dir, '--against', join(root, 'proto')]);
    expect(res.status, res.output).toBe(100);
    expect(res.output).toContain('changed name from "message_id" to "id"');
  });

  it('would report a lint finding outside the exceptions (a message name not in PascalCase)', () => {
    const dir = editedCopy('prism/interfaces/lifecycle.proto', 'message StopRequest {', 'message StopRequest {}\nmessage stop_request_v2 {');
    const res = run(['lint'], dir);
    expect(res.status, res.output).toBe(100);
    expect(res.output).toContain('stop_request_v2');
  });
});
