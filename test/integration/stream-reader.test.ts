import { inject } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { createPlatformaticProducer } from '../../core/kafka/platformatic-producer.ts';
import { createPlatformaticReader } from '../../core/kafka/platformatic-reader.ts';
import { readerPortContract } from '../contract/reader-port.contract.ts';

readerPortContract('platformatic on the real broker', () => {
  const config = loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } });
  const reader = createPlatformaticReader(config);
  const producer = createPlatformaticProducer(config);
  return { reader, producer, close: async () => { await producer.close(); await reader.close(); } };
});
