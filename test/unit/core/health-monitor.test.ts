import { describe, expect, it } from 'vitest';
import { HealthMonitor, type CredentialHealth, type HealthMonitorOptions } from '../../../core/health-monitor.ts';
import { FakeKafka } from '../../support/fake-kafka.ts';

function setup(extra: Pick<HealthMonitorOptions, 'credentials' | 'consumerLag'> = {}) {
  const kafka = new FakeKafka();
  let now = 1_000_000;
  let pending = 0;
  const monitor = new HealthMonitor({ kafka, pending: () => pending, topic: 'events', brokers: ['fake:9092'], intervalMs: 60_000, staleAfterMs: 5_000, timeoutMs: 1_000, now: () => now, ...extra });
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

  it('is not ready without valid credentials, and says why (fail closed)', async () => {
    let creds: CredentialHealth = { valid: false, message: 'Kafka credentials for u1 expired and vault could not renew them', source: 'vault-lease', expiresInS: 0 };
    const { monitor } = setup({ credentials: () => creds });
    await monitor.probe();
    const r = monitor.report();
    expect(r).toMatchObject({ status: 'UNHEALTHY', ready: false, message: 'Kafka credentials for u1 expired and vault could not renew them' });
    expect(r.details).toMatchObject({ brokers_reachable: 'true', credential_source: 'vault-lease', credential_expires_in_s: '0' });
    creds = { valid: true, message: 'credentials for u2', source: 'vault-lease', expiresInS: 3600 };
    expect(monitor.report()).toMatchObject({ status: 'HEALTHY', ready: true, details: { credential_expires_in_s: '3600' } });
  });

  it('reports degraded credentials as DEGRADED but stays ready (cached credentials still work)', async () => {
    const { monitor } = setup({ credentials: () => ({ valid: true, degraded: 'vault unreachable; using cached credentials for u1', source: 'vault-lease', expiresInS: 120 }) });
    await monitor.probe();
    expect(monitor.report()).toMatchObject({ status: 'DEGRADED', ready: true, message: 'vault unreachable; using cached credentials for u1' });
  });

  it('names both problems when the brokers are unreachable and the credentials invalid', async () => {
    const { monitor, kafka } = setup({ credentials: () => ({ valid: false, message: 'no Kafka credentials yet' }) });
    kafka.reachable = false;
    await monitor.probe();
    const r = monitor.report();
    expect(r).toMatchObject({ status: 'UNHEALTHY', ready: false });
    expect(r.message).toContain('connection refused');
    expect(r.message).toContain('no Kafka credentials yet');
  });

  it('treats a credentials hook that throws as invalid credentials', async () => {
    const { monitor } = setup({ credentials: () => { throw new Error('source closed'); } });
    await monitor.probe();
    expect(monitor.report()).toMatchObject({ status: 'UNHEALTHY', ready: false, message: 'credential status unavailable: source closed' });
  });

  it('draining wins over credentials: not ready, DEGRADED', async () => {
    const { monitor } = setup({ credentials: () => ({ valid: false, message: 'expired' }) });
    await monitor.probe();
    monitor.setDraining('Stop requested');
    expect(monitor.report()).toMatchObject({ status: 'DEGRADED', ready: false, message: 'draining: Stop requested' });
  });

  it('shows the total consumer lag when known, and leaves it out otherwise', async () => {
    const lag: { total?: number } = {};
    const { monitor } = setup({ consumerLag: () => lag.total });
    await monitor.probe();
    expect(monitor.report().details).not.toHaveProperty('consumer_lag');
    lag.total = 37;
    expect(monitor.report().details.consumer_lag).toBe('37');
  });

  it('leaves credential details out when there is no credentials hook (PLAINTEXT)', async () => {
    const { monitor } = setup();
    await monitor.probe();
    const { details } = monitor.report();
    expect(details).not.toHaveProperty('credential_source');
    expect(details).not.toHaveProperty('credential_expires_in_s');
  });
});
