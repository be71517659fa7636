import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, client } from '../support/grpc-client.ts';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const script = `${root}/scripts/examples.sh`;
const count = 5;
let plugin: TestPlugin;

type Line = Record<string, unknown> & { step: string };

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: 'generated-clients' });
  plugin.runtime.start();
  await plugin.runtime.deps.health.probe();
  // First run on a clean clone: a venv with grpcio-tools, the two protoc plugins from the Go module proxy, the Go
  // example's modules. Later runs only regenerate the stubs and relink.
  await run('bash', [script, 'setup'], { cwd: root, timeout: 280_000 });
}, 300_000);
afterAll(() => plugin?.close());

/** Runs one example client against the plugin and returns its JSON lines, grouped by step. */
async function runClient(language: 'go' | 'python', names: { queueTopic: string; group: string; streamTopic: string }): Promise<Map<string, Line[]>> {
  const args = ['--addr', plugin.address, '--queue-topic', names.queueTopic, '--group', names.group, '--stream-topic', names.streamTopic, '--count', String(count)];
  const { stdout } = await run('bash', [script, language, ...args], { cwd: root, timeout: 90_000 }).catch((err: { stderr?: string; stdout?: string }) => {
    throw new Error(`${language} client failed:\n${err.stderr ?? ''}\n${err.stdout ?? ''}`);
  });
  const steps = new Map<string, Line[]>();
  for (const text of stdout.split('\n').filter((l) => l.trim() !== '')) {
    const line = JSON.parse(text) as Line;
    steps.set(line.step, [...(steps.get(line.step) ?? []), line]);
  }
  return steps;
}

const sorted = (values: unknown[]) => values.map(String).sort();
const position = (l: Line) => `${String(l.partition)}/${String(l.offset)}`;

/** Clients generated from proto/ with protoc-gen-go + protoc-gen-go-grpc and with grpcio-tools, as users build them. */
describe.each(['go', 'python'] as const)('generated %s client', (language) => {
  const id = randomUUID().slice(0, 8);
  const names = { queueTopic: `gen-${language}-queue-${id}`, group: `gen-${language}-group-${id}`, streamTopic: `gen-${language}-stream-${id}` };
  let steps: Map<string, Line[]>;
  const step = (name: string): Line[] => steps.get(name) ?? [];

  beforeAll(async () => {
    steps = await runClient(language, names);
  }, 120_000);

  it('sees grpc.health.v1 SERVING and a HEALTHY lifecycle HealthCheck with its details', () => {
    expect(step('health')).toEqual([{ step: 'health', status: 'SERVING' }]);
    expect(step('lifecycle')).toEqual([
      expect.objectContaining({ status: 'HEALTH_STATUS_HEALTHY', message: expect.stringMatching(/\S/), details: expect.objectContaining({ topic: 'generated-clients', producer_queue: expect.any(String) }) }),
    ]);
  });

  it('publishes, consumes every message once and acks it: the group has no lag left on the broker', async () => {
    const published = step('publish');
    expect(published).toHaveLength(count);
    const consumed = step('consume');
    expect(sorted(consumed.map((c) => c.message_id))).toEqual(sorted(published.map((p) => p.message_id)));
    expect(sorted(consumed.map((c) => c.payload))).toEqual(sorted([...Array(count).keys()].map((i) => `message ${i}`)));
    for (const c of consumed) expect(c).toMatchObject({ attempt: 1, payload: `message ${String(c.sequence)}` });
    const [ack] = step('ack');
    expect(ack).toMatchObject({ acknowledged: count });
    expect(ack!.committed).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${names.queueTopic}/\\d+=\\d+$`))]));
    const queue = client(plugin.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      const offsets = await call<{ partitions: { lag: string | number }[] }>(queue, 'GetOffsets', { topic: names.queueTopic, group: names.group });
      expect(offsets.partitions.reduce((sum, p) => sum + Number(p.lag), 0)).toBe(0);
    } finally {
      queue.close();
    }
  });

  it('tails from earliest, resumes from a cursor with no gap and no duplicate, and pages a query to the end', () => {
    expect(step('create')).toEqual([expect.objectContaining({ topic: names.streamTopic, created: true, partitions: 3 })]);
    const appended = step('append').map(position);
    expect(appended).toHaveLength(count);
    const tailed = step('tail');
    const resumed = step('resume');
    expect([tailed.length, resumed.length]).toEqual([Math.floor(count / 2), count - Math.floor(count / 2)]);
    expect(sorted([...tailed, ...resumed].map(position))).toEqual(sorted(appended));
    for (const e of [...tailed, ...resumed]) expect(e.tags).toEqual({ source: `example-${language}` });
    const pages = step('query');
    expect(pages.map((p) => p.more)).toEqual([...Array(pages.length - 1).fill(true), false]);
    expect(sorted(pages.flatMap((p) => p.payloads as string[]))).toEqual(sorted([...Array(count).keys()].map((i) => `event ${i}`)));
  });

  it('reads BadRequest and ErrorInfo from grpc-status-details-bin, on a unary call and on a stream', () => {
    const errors = step('error');
    expect(errors.map((e) => e.rpc)).toEqual(['Publish', 'Tail']);
    for (const e of errors) {
      expect(e).toMatchObject({
        code: 3,
        field_violations: [{ field: 'topic', description: expect.stringContaining('"bad/topic"') }],
        error_info: { reason: 'INVALID_ARGUMENT', domain: 'prism.kafka', metadata: { retryable: 'false' } },
        request_id: expect.stringMatching(/\S/),
      });
      expect(e.message).toContain('bad/topic');
    }
  });
});
