import { Counter, Gauge, type Registry } from 'prom-client';

/** What the TTL gauge reads at scrape time: the current credentials' source and seconds left, when known. */
export interface CredentialTtl {
  source: string;
  expiresInS?: number;
}

/**
 * Credential metrics in Prometheus form (prism-contracts.md §8). The TTL is read from a source at scrape time, so it
 * is never stale; without a lease (static credentials, PLAINTEXT) it has no sample rather than a misleading 0.
 * Renewals and rotations are counted by the credential source's events.
 */
export function createCredentialMetrics(registers: Registry[]) {
  let ttl: () => CredentialTtl | undefined = () => undefined;
  return {
    /** Where the TTL comes from; the composition root points it at the current credential source. */
    ttlSource: (source: () => CredentialTtl | undefined) => {
      ttl = source;
    },
    ttlSeconds: new Gauge({
      name: 'prism_credential_ttl_seconds',
      help: 'Seconds until the current Kafka credentials expire (leased credentials only)',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        const now = ttl();
        if (now?.expiresInS !== undefined) this.set({ source: now.source }, now.expiresInS);
      },
    }),
    renewals: new Counter({
      name: 'prism_credential_renewals_total',
      help: 'Renewals of the secret-store token or credential lease, by kind (token, lease) and result (ok, failed)',
      labelNames: ['kind', 'result'],
      registers,
    }),
    rotations: new Counter({ name: 'prism_credential_rotations_total', help: 'Switches to new Kafka credentials', registers }),
  };
}

export type CredentialMetrics = ReturnType<typeof createCredentialMetrics>;
