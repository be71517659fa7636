import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metrics of the plugin's own TLS certificate (PRISM_TLS_*): reloads by result (ok, failed), and when the
 * certificate being served expires, for an alert days ahead. Without TLS on the main port neither has a sample: the
 * expiry gauge is registered when a certificate is first served (an unlabelled gauge would otherwise read 0, i.e.
 * "expired in 1970").
 */
export function createTlsMetrics(registers: Registry[]) {
  const reloads = new Counter({
    name: 'prism_tls_reloads_total',
    help: 'Reloads of the main port\'s TLS files after they changed, by result (ok; failed: the previous certificate is kept)',
    labelNames: ['result'],
    registers,
  });
  const expiry = new Gauge({
    name: 'prism_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate the main port serves expires (its notAfter), in seconds since the Unix epoch',
    registers: [],
  });
  let registered = false;
  return {
    reloads,
    /** The certificate now served: its notAfter in ms. Both reload results start at 0, so rate() sees the first one. */
    serving(validToMs: number) {
      if (!registered) {
        for (const r of registers) r.registerMetric(expiry);
        registered = true;
      }
      expiry.set(Math.floor(validToMs / 1000));
      reloads.inc({ result: 'ok' }, 0);
      reloads.inc({ result: 'failed' }, 0);
    },
  };
}

export type TlsMetrics = ReturnType<typeof createTlsMetrics>;
