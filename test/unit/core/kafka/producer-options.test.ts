import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../core/config/load.ts';
import { producerClientOptions, weakAcksWarning } from '../../../../core/kafka/client-options.ts';
import type { ProducerPort } from '../../../../core/kafka/producer-port.ts';
import { RotatingProducer } from '../../../../core/kafka/rotating-producer.ts';
import { fakeRuntime } from '../../../support/fake-runtime.ts';

const config = (acks: string) => loadConfig({ env: { KAFKA_BROKERS: 'fake:9092', KAFKA_ACKS: acks } });

describe('producer client options', () => {
  it.each([['all', -1, true], ['1', 1, false], ['0', 0, false]] as const)('publish follows KAFKA_ACKS=%s', (acks, wire, idempotent) => {
    expect(producerClientOptions(config(acks), 'publish')).toMatchObject({ acks: wire, idempotent, clientId: 'prism-kafka-plugin-producer' });
  });

  it.each(['all', '1', '0'])('dead letters use acks=all (-1) with idempotence whatever KAFKA_ACKS says (%s)', (acks) => {
    expect(producerClientOptions(config(acks), 'dead-letters')).toMatchObject({ acks: -1, idempotent: true, clientId: 'prism-kafka-plugin-dead-letter-producer' });
  });

  it('warns for acks 0 and 1, naming what publish gives up and what dead letters keep', () => {
    expect(weakAcksWarning(config('all'))).toBeUndefined();
    for (const acks of ['0', '1']) expect(weakAcksWarning(config(acks))).toMatch(/acknowledged records may be lost when a broker fails; dead-letter writes still use acks=all/);
  });

  it('logs that warning once when the gRPC runtime starts with acks=0', () => {
    const warned = (env: Record<string, string>) => fakeRuntime(env).logs.filter((l) => l.level === 'WARN' && String(l.msg).includes('dead-letter writes still use acks=all'));
    expect(warned({ KAFKA_ACKS: '0' })).toHaveLength(1);
    expect(warned({})).toHaveLength(0);
  });
});

describe('a lazy rotating producer', () => {
  function counting() {
    const built: string[] = [];
    const make = (): ProducerPort => {
      built.push('producer');
      return { produce: () => Promise.resolve([]), pending: () => 0, close: () => Promise.resolve() };
    };
    return { built, make };
  }

  it('builds nothing (opens no connection) until the first send, and nothing on rotate or close before it', async () => {
    const { built, make } = counting();
    const p = new RotatingProducer(make, { lazy: true });
    await p.rotate();
    expect(p.pending()).toBe(0);
    expect(built).toEqual([]);
    await p.produce([], {});
    await p.produce([], {});
    expect(built).toEqual(['producer']);
    await p.close();
  });

  it('refuses a send after close instead of building a producer nothing would close', async () => {
    const { built, make } = counting();
    const p = new RotatingProducer(make, { lazy: true });
    await p.close();
    await expect(p.produce([], {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(built).toEqual([]);
  });
});
