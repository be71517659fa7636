import { Admin } from '@platformatic/kafka';

/**
 * Holds publishes in flight deterministically, with a broker feature rather than a fake: a produce quota of
 * 1 KiB/s on one client id. After a large record the broker mutes that producer's connection for far longer than
 * the plugin's request timeout, so the next produce request waits exactly KAFKA_REQUEST_TIMEOUT_MS and then
 * succeeds on a new connection. Other clients are not affected. Resolves with the function that lifts the quota.
 */
export async function throttleClient(brokers: string, clientId: string): Promise<() => Promise<void>> {
  const alter = async (op: { key: 'producer_byte_rate'; value: number; remove: false } | { key: 'producer_byte_rate'; remove: true }) => {
    const admin = new Admin({ clientId: 'prism-test-quota', bootstrapBrokers: [brokers] });
    try {
      const [entry] = await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: clientId }], ops: [op] }] });
      if (entry !== undefined && entry.errorCode !== 0) throw new Error(`quota for ${clientId}: ${entry.errorMessage ?? entry.errorCode}`);
    } finally {
      await admin.close();
    }
  };
  await alter({ key: 'producer_byte_rate', value: 1024, remove: false });
  return () => alter({ key: 'producer_byte_rate', remove: true });
}

/** kafka_plugin_producer_queue_length as the plugin's /metrics reports it: records handed over, not yet acknowledged. */
export async function producerQueueLength(httpAddress: string): Promise<number> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  const m = /^kafka_plugin_producer_queue_length(?:\{[^}]*\})? (\d+)$/m.exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

/** Polls until `probe` holds or the timeout passes; returns whether it held. */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return probe();
}
