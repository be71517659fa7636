import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const kafkaTool = fileURLToPath(new URL('../../scripts/infra/kafka-tool.sh', import.meta.url));

/**
 * Holds publishes in flight deterministically, with a broker feature rather than a fake: a produce quota of
 * 1 KiB/s on one client id. After a large record the broker mutes that producer's connection for far longer than
 * the plugin's request timeout, so the next produce request waits exactly KAFKA_REQUEST_TIMEOUT_MS and then
 * succeeds on a new connection. Other clients are not affected. Resolves with the function that lifts the quota.
 * The quota is set and lifted with Kafka's own kafka-configs tool (AlterClientQuotas; one JVM start, a few seconds).
 */
export async function throttleClient(brokers: string, clientId: string): Promise<() => Promise<void>> {
  const alter = async (change: string[]) => {
    const args = ['kafka-configs', '--bootstrap-server', brokers, '--alter', '--entity-type', 'clients', '--entity-name', clientId, ...change];
    // The tool exits non-zero when the broker refuses the change, and says why on stdout or stderr.
    await run(kafkaTool, args, { timeout: 120_000 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`quota for ${clientId}: ${(err.stdout ?? '').trim() || (err.stderr ?? '').trim() || err.message}`);
    });
  };
  await alter(['--add-config', 'producer_byte_rate=1024']);
  return () => alter(['--delete-config', 'producer_byte_rate']);
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
