import { describe, expect, it } from 'vitest';
import { isPluginError } from '../../core/errors.ts';
import type { KafkaPort } from '../../core/kafka/port.ts';

/**
 * The behaviour every KafkaPort implementation owes its handlers. The fake runs it in the unit project, the real
 * adapter against the real broker in the integration project.
 */
export function kafkaPortContract(name: string, make: () => KafkaPort) {
  describe(`KafkaPort contract: ${name}`, () => {
    it('answers a ping with the cluster id and at least one broker', async () => {
      const kafka = make();
      try {
        const info = await kafka.ping({ timeoutMs: 5_000 });
        expect(info.clusterId).not.toBe('');
        expect(info.brokers.length).toBeGreaterThanOrEqual(1);
        for (const b of info.brokers) expect(b.port).toBeGreaterThan(0);
      } finally {
        await kafka.close();
      }
    });

    it('closes idempotently and refuses work afterwards with UNAVAILABLE', async () => {
      const kafka = make();
      await kafka.ping({ timeoutMs: 5_000 });
      await Promise.all([kafka.close(), kafka.close()]);
      await kafka.close();
      const err: unknown = await kafka.ping({ timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    });
  });
}
