import { describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../../core/health-monitor.ts';
import { FakeKafka } from '../../support/fake-kafka.ts';

function setup() {
  const kafka = new FakeKafka();
  let now = 1_000_000;
  let pending = 0;
  const monitor = new HealthMonitor({ kafka, pending: () => pending, topic: 'events', brokers: ['fake:9092'], intervalMs: 60_000, staleAfterMs: 5_000, timeoutMs: 1_000, now: () => now });
  return { kafka, monitor, advance: (ms: number) => (now += ms), setPending: (n: number) => (pending = n) };
}

describe('HealthMonitor', () => {
  it('is not ready before the first successful probe', () => {
    const { monitor } = setup();
    const r = monitor.report();
    expect(r).toMatchObject({ status: 'UNHEALTHY', ready: false });
    expect(r.message).toContain('fake:9092');
  });

  it('is healthy after a round trip, with the details operators and upstream tests look for', async () => {
    const { monitor, setPending } = setup();
    setPending(3);
    await monitor.probe();
    const r = monitor.report();
    expect(r).toMatchObject({ status: 'HEALTHY', ready: true });
    expect(r.details).toMatchObject({ producer_queue: '3', topic: 'events', brokers_reachable: 'true', broker_count: '1' });
  });

  it('rides out one failed probe while the last success is fresh, and shows the error', async () => {
    const { monitor, kafka } = setup();
    await monitor.probe();
    kafka.reachable = false;
    await monitor.probe();
    const r = monitor.report();
    expect(r.status).toBe('HEALTHY');
    expect(r.details.last_error).toContain('connection refused');
  });

  it('does not trust a success older than staleAfterMs', async () => {
    const { monitor, kafka, advance } = setup();
    await monitor.probe();
    kafka.reachable = false;
    await monitor.probe();
    advance(5_001);
    const r = monitor.report();
    expect(r).toMatchObject({ status: 'UNHEALTHY', ready: false });
    expect(r.message).toContain('connection refused');
    expect(r.details.brokers_reachable).toBe('false');
  });

  it('is not ready while draining, whatever the brokers say', async () => {
    const { monitor } = setup();
    await monitor.probe();
    monitor.setDraining('Stop requested');
    expect(monitor.report()).toMatchObject({ status: 'DEGRADED', ready: false, message: 'draining: Stop requested' });
  });

  it('notifies listeners on status changes only', async () => {
    const { monitor, kafka, advance } = setup();
    const seen: string[] = [];
    monitor.onChange((r) => seen.push(r.status));
    await monitor.probe();
    await monitor.probe();
    kafka.reachable = false;
    advance(10_000);
    await monitor.probe();
    expect(seen).toEqual(['HEALTHY', 'UNHEALTHY']);
  });

  it('shares one round trip between concurrent probes', async () => {
    const { monitor, kafka } = setup();
    await Promise.all([monitor.probe(), monitor.probe(), monitor.probe()]);
    expect(kafka.pings).toBe(1);
  });
});
