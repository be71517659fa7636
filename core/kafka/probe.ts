import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.ts';
import { classifyKafkaError } from './classify.ts';
import { baseClientOptions, type SaslAuth } from './client-options.ts';

/**
 * Proves that credentials authenticate at the brokers (a SASL login, or an mTLS handshake with a client certificate):
 * a throwaway admin client makes one metadata round trip.
 * A new SCRAM user reaches every broker asynchronously, so this retries with backoff up to `withinMs`.
 */
export async function probeCredentials(config: Config, creds: NonNullable<ReturnType<SaslAuth['current']>>, withinMs = 30_000): Promise<void> {
  const until = Date.now() + withinMs;
  let delay = 200;
  for (;;) {
    const admin = new Admin({ ...baseClientOptions(config, 'credential-probe', { current: () => creds }), retries: 0 });
    try {
      await admin.metadata({ topics: [], forceUpdate: true, retries: 0 });
      return;
    } catch (err) {
      if (Date.now() + delay > until) throw classifyKafkaError(err, `probing new credentials for ${creds.username}`);
    } finally {
      await admin.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 3_000);
  }
}
