import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../core/metrics/metrics.ts';

const lines = async (m: ReturnType<typeof createMetrics>, prefix: string) => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

describe('TLS metrics of the main port', () => {
  it('have no sample without TLS', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    expect(await lines(m, 'prism_tls_')).toEqual([]);
  });

  it('give the served certificate\'s notAfter in seconds, and both reload results from 0', async () => {
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    m.tls.serving(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    expect(await lines(m, 'prism_tls_')).toEqual([
      'prism_tls_reloads_total{result="ok",namespace="test"} 0',
      'prism_tls_reloads_total{result="failed",namespace="test"} 0',
      `prism_tls_certificate_expiry_timestamp_seconds{namespace="test"} ${String(Date.UTC(2030, 0, 2, 3, 4, 5) / 1000)}`,
    ]);
    m.tls.reloads.inc({ result: 'failed' });
    m.tls.serving(Date.UTC(2031, 0, 1));
    m.tls.reloads.inc({ result: 'ok' });
    expect(await lines(m, 'prism_tls_')).toEqual([
      'prism_tls_reloads_total{result="ok",namespace="test"} 1',
      'prism_tls_reloads_total{result="failed",namespace="test"} 1',
      `prism_tls_certificate_expiry_timestamp_seconds{namespace="test"} ${String(Date.UTC(2031, 0, 1) / 1000)}`,
    ]);
  });
});
