import { inject } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { readerPortContract } from '../contract/reader-port.contract.ts';

readerPortContract('the real adapter on the real broker', () => {
  const clients = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } }));
  const reader = clients.reader();
  const producer = clients.producer();
  return { reader, producer, close: async () => { await producer.close(); await reader.close(); } };
});
