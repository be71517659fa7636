import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { guideTopic, jsonValues, parseGuide, runGuide, type StepResult } from '../support/api-guide.ts';
import { mismatches } from '../support/guide-match.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const exec = promisify(execFile);
const guide = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const steps = parseGuide(guide);
// Unique per run, and with no regular-expression or shell meaning, so it can replace the documented value anywhere.
const topic = `guide-${randomUUID().slice(0, 8)}`;
let plugin: TestPlugin;
let methods: string[] = [];
let results: StepResult[] = [];

// grpcurl's report when -max-time ends a stream, which is how the guide stops its streaming calls.
const deadline = /^ERROR:\n {2}Code: DeadlineExceeded\n {2}Message: .*\n/gm;

/** `service/Method` as the guide's grpcurl commands name it, or `list`. */
const rpcOf = (command: string) => /\s([\w.]+\/\w+)(?:\s|$)/.exec(command)?.[1] ?? (/\slist\s*$/m.test(command) ? 'list' : '?');

beforeAll(async () => {
  // The guide reads receipts and cursors out of earlier outputs with jq.
  await exec('bash', ['-c', 'command -v jq']).catch(() => { throw new Error('docs/api.md needs jq on the PATH (apt-get install jq)'); });
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers') });
  const grpcurl = join(inject('toolsBin'), 'grpcurl');
  // Every RPC the server offers through reflection, before the guide's last command stops the plugin.
  const services = (await exec(grpcurl, ['-plaintext', plugin.address, 'list'])).stdout.split('\n').filter((s) => s !== '' && !s.startsWith('grpc.reflection.'));
  for (const s of services) {
    // A service reflection cannot describe is reported by the coverage test, and the guide still runs.
    const listed = await exec(grpcurl, ['-plaintext', plugin.address, 'list', s]).then((r) => r.stdout.split('\n').filter((m) => m !== ''), (err: Error) => [`${s}.<not listed: ${err.message.trim()}>`]);
    methods.push(...listed.map((m) => `${s}/${m.slice(s.length + 1)}`));
  }
  results = await runGuide(steps, { address: plugin.address, env: { TOPIC: topic, PATH: `${inject('toolsBin')}:${process.env.PATH ?? ''}` }, timeoutMs: 150_000 });
}, 180_000);
afterAll(async () => {
  methods = [];
  await plugin?.close();
});

/** Every command of docs/api.md run as written against a real plugin on the real broker; outputs as documented. */
describe('docs/api.md', () => {
  it('has one command or more for every RPC the server offers (reflection excepted)', () => {
    expect(methods.length).toBeGreaterThan(20);
    const documented = new Set(steps.map((s) => rpcOf(s.command)));
    expect(methods.filter((m) => !documented.has(m))).toEqual([]);
  });

  it.each(steps.map((s, i) => [`line ${s.line}: ${rpcOf(s.command)}`, i] as const))('%s', (_name, i) => {
    const step = steps[i]!;
    const result = results[i]!;
    const streaming = step.command.includes('-max-time');
    const stderr = streaming ? result.stderr.replace(deadline, '') : result.stderr;
    expect(stderr, 'standard error').toBe('');
    expect(streaming ? [0, 68] : [0], `exit code ${result.code}`).toContain(result.code);
    const expected = step.expected.replaceAll(guideTopic, topic);
    if (step.format === 'text') expect(result.stdout.trim()).toBe(expected.trim());
    else {
      expect(step.format, 'a json block after the command').toBe('json');
      const documented = jsonValues(expected);
      expect(documented.length, 'the documented output holds JSON').toBeGreaterThan(0);
      expect(mismatches(documented, jsonValues(result.stdout)), result.stdout).toEqual([]);
    }
  });
});
