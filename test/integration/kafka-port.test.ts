import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { isPluginError } from '../../core/errors.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { kafkaPortContract } from '../contract/kafka-port.contract.ts';

const configFor = (brokers: string) => loadConfig({ env: { KAFKA_BROKERS: brokers } });

kafkaPortContract('the real adapter on the real broker', () => kafkaClients(configFor(inject('kafkaBrokers'))).cluster());

describe('the real Kafka port against an address with no broker', () => {
  it('rejects a ping with UNAVAILABLE naming the brokers, within its timeout', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const kafka = kafkaClients(configFor('127.0.0.1:1')).cluster();
    const started = Date.now();
    const err: unknown = await kafka.ping({ timeoutMs: 3_000 }).catch((e: unknown) => e);
    await kafka.close();
    expect(isPluginError(err) && err.code).toBe('UNAVAILABLE');
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(3_500);
  });
});
