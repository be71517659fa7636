import { describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../../core/health-monitor.ts';
import { isPluginError } from '../../../core/errors.ts';
import { health } from '../../../handlers/health.ts';
import { FakeKafka } from '../../support/fake-kafka.ts';
import { testContext } from '../../support/context.ts';

const monitorFor = (kafka: FakeKafka) => new HealthMonitor({ kafka, pending: () => 0, topic: 'events', brokers: ['fake:9092'], intervalMs: 60_000, staleAfterMs: 60_000, timeoutMs: 1_000 });

describe('health handler', () => {
  it('probes the brokers afresh by default', async () => {
    const kafka = new FakeKafka();
    const report = await health({ health: monitorFor(kafka) }, {}, testContext());
    expect(kafka.pings).toBe(1);
    expect(report.status).toBe('HEALTHY');
  });

  it('answers from the last probe when fresh=false', async () => {
    const kafka = new FakeKafka();
    const report = await health({ health: monitorFor(kafka) }, { fresh: false }, testContext());
    expect(kafka.pings).toBe(0);
    expect(report.status).toBe('UNHEALTHY');
  });

  it('rejects a malformed request with INVALID_ARGUMENT naming the field and value', async () => {
    const err: unknown = await health({ health: monitorFor(new FakeKafka()) }, { fresh: 'yes' }, testContext()).catch((e: unknown) => e);
    expect(isPluginError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toBe('invalid request: fresh: expected true or false, got "yes"');
  });
});
