import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../core/metrics/metrics.ts';

const lines = async (m: ReturnType<typeof createMetrics>, prefix: string) => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

describe('metrics', () => {
  it('rebuilds the queue gauges from their sources at every scrape: closed subscriptions leave no series', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    let unacked = new Map([['orders', 3]]);
    let lag = [{ group: 'g', topic: 'orders', partition: 0, lag: 5 }, { group: 'g', topic: 'orders', partition: 1, lag: 0 }];
    m.queue.source({ unackedByTopic: () => unacked, lag: () => lag });
    expect(await lines(m, 'prism_queue_unacked{')).toEqual(['prism_queue_unacked{topic="orders",namespace="test"} 3']);
    expect(await lines(m, 'prism_consumer_lag{')).toEqual([
      'prism_consumer_lag{group="g",topic="orders",partition="0",namespace="test"} 5',
      'prism_consumer_lag{group="g",topic="orders",partition="1",namespace="test"} 0',
    ]);
    unacked = new Map();
    lag = [];
    expect(await lines(m, 'prism_queue_unacked{')).toEqual([]);
    expect(await lines(m, 'prism_consumer_lag{')).toEqual([]);
  });

  it('reports the health status of the scrape instant', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    let status: 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY' = 'UNHEALTHY';
    m.healthSource(() => status);
    expect(await lines(m, 'kafka_plugin_health_status{')).toEqual(['kafka_plugin_health_status{namespace="test"} 3']);
    status = 'DEGRADED';
    expect(await lines(m, 'kafka_plugin_health_status{')).toEqual(['kafka_plugin_health_status{namespace="test"} 2']);
  });

  it('has no credential TTL sample without a lease, and the seconds left with one', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    expect(await lines(m, 'prism_credential_ttl_seconds{')).toEqual([]);
    m.credentials.ttlSource(() => ({ source: 'config' }));
    expect(await lines(m, 'prism_credential_ttl_seconds{')).toEqual([]);
    m.credentials.ttlSource(() => ({ source: 'vault-lease', expiresInS: 1800 }));
    expect(await lines(m, 'prism_credential_ttl_seconds{')).toEqual(['prism_credential_ttl_seconds{source="vault-lease",namespace="test"} 1800']);
    m.credentials.renewals.inc({ kind: 'lease', result: 'ok' });
    expect(await lines(m, 'prism_credential_renewals_total{')).toEqual(['prism_credential_renewals_total{kind="lease",result="ok",namespace="test"} 1']);
  });

  it('exports Node process metrics without the gauges promtool rejects (a _total suffix on a gauge)', async () => {
    const m = createMetrics({ namespace: 'test' });
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (match[2] !== 'counter') expect(match[1]).not.toMatch(/_total$/);
    }
  });

  it('creates two registries in one process without collisions', () => {
    expect(() => [createMetrics({ namespace: 'a' }), createMetrics({ namespace: 'b' })]).not.toThrow();
  });
});
