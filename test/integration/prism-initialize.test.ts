import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { jsonToStruct } from '../../adapters/grpc/struct.ts';
import { call, client } from '../support/grpc-client.ts';
import { startPluginProcess } from '../support/plugin-process.ts';
import { spawnNode } from '../support/process.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const id = randomUUID().slice(0, 8);

/** Established TCP connections from one process to the broker's port, as the kernel sees them. */
async function brokerConnections(pid: number): Promise<number> {
  const port = inject('kafkaBrokers').split(',')[0]!.split(':').at(-1)!;
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`]);
  return stdout.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

describe('Initialize over gRPC, in a running plugin process', () => {
  it('reconfigures again and again without leaking broker connections (counted with ss)', async () => {
    const p = await startPluginProcess({ KAFKA_BROKERS: inject('kafkaBrokers') });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    const queue = client(p.address, 'prism.interfaces.queue.QueueBasicInterface');
    try {
      // Each round brings up every client a reconfiguration replaces: the producer (Publish), the admin (HealthCheck).
      const round = async (i: number) => {
        const topic = `prism-init-${id}-${i}`;
        const res = await call<{ success: boolean; error: string }>(lifecycle, 'Initialize', { name: 'kafka', version: '0.1.0', config: jsonToStruct({ brokers: [inject('kafkaBrokers')], topic, request_timeout_ms: 10_000 }) });
        expect(res).toMatchObject({ success: true, error: '' });
        await call(queue, 'Publish', { topic, payload: Buffer.from(`round ${i}`) }, { deadlineMs: 15_000 });
        expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ status: 'HEALTH_STATUS_HEALTHY', details: { topic } });
      };
      await round(0);
      const first = await brokerConnections(p.pid);
      expect(first).toBeGreaterThan(0);
      for (let i = 1; i <= 5; i++) await round(i);
      // Initialize answers after the old clients closed: their sockets are gone, not merely idle.
      expect(await brokerConnections(p.pid)).toBeLessThanOrEqual(first);
    } finally {
      lifecycle.close();
      queue.close();
      p.child.kill('SIGKILL');
    }
  });

  it('answers bad config with the message the process prints when it refuses to start', async () => {
    const refused = spawnNode(['adapters/grpc/main.ts'], { cwd: root, env: { KAFKA_COMPRESSION: 'brotli', KAFKA_ACKS: 'some' } });
    expect((await refused.exited).code).toBe(2);
    const printed = refused.stderr();

    const p = await startPluginProcess({ KAFKA_BROKERS: inject('kafkaBrokers') });
    const lifecycle = client(p.address, 'prism.interfaces.LifecycleInterface');
    try {
      const res = await call<{ success: boolean; error: string }>(lifecycle, 'Initialize', { config: jsonToStruct({ compression: 'brotli', acks: 'some' }) });
      expect(res.success).toBe(false);
      // Same text, line for line, but for where each value came from.
      const normalise = (text: string) => text.trim().replace(/^prism-kafka-plugin: /, '').replace(/(env KAFKA_[A-Z_]+|Initialize config\.[a-z_]+)/g, '<source>').split('\n').sort();
      expect(normalise(res.error)).toEqual(normalise(printed));
      expect(res.error).toContain('Initialize config.acks: expected one of all, 1, 0, got "some"');
      expect(await call(lifecycle, 'HealthCheck', {})).toMatchObject({ details: { topic: 'events' } });
    } finally {
      lifecycle.close();
      p.child.kill('SIGKILL');
    }
  });
});
