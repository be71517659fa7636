import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPlugin, type TestPlugin } from '../support/plugin.ts';

const run = promisify(execFile);
const tool = (name: string) => join(inject('toolsBin'), name);
let plugin: TestPlugin;

beforeAll(async () => {
  plugin = await startPlugin({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC: 'real-clients' });
  plugin.runtime.start();
  await plugin.runtime.deps.health.probe();
});
afterAll(() => plugin.close());

/** Clients nobody on this team wrote, talking to the server through reflection, as operators do. */
describe('real gRPC clients', () => {
  it('grpcurl lists the lifecycle and health services', async () => {
    const { stdout } = await run(tool('grpcurl'), ['-plaintext', plugin.address, 'list']);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'prism.interfaces.LifecycleInterface']));
  });

  it('grpcurl gets SERVING from grpc.health.v1.Health/Check', async () => {
    const { stdout } = await run(tool('grpcurl'), ['-plaintext', plugin.address, 'grpc.health.v1.Health/Check']);
    expect(JSON.parse(stdout)).toEqual({ status: 'SERVING' });
  });

  it('grpcurl calls the lifecycle through reflection, Struct and maps included', async () => {
    const init = await run(tool('grpcurl'), ['-plaintext', '-d', '{"config":{"topic":"from-grpcurl","max_message_bytes":4096}}', plugin.address, 'prism.interfaces.LifecycleInterface/Initialize']);
    expect(JSON.parse(init.stdout)).toMatchObject({ success: true, metadata: { name: 'kafka' } });
    const health = await run(tool('grpcurl'), ['-plaintext', plugin.address, 'prism.interfaces.LifecycleInterface/HealthCheck']);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY', details: { topic: 'from-grpcurl', producer_queue: '0' } });
  });

  it('grpc-health-probe exits 0 for the service "kafka"', async () => {
    // execFile rejects on a non-zero exit; the probe reports on stderr.
    const { stderr } = await run(tool('grpc-health-probe'), [`-addr=${plugin.address}`, '-service=kafka']);
    expect(stderr).toContain('status: SERVING');
  });
});
