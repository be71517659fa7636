import { inject } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { producerPortContract } from '../contract/producer-port.contract.ts';

producerPortContract('the real adapter on the real broker', () => {
  const clients = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } }));
  const producer = clients.producer();
  const reader = clients.reader();
  return { producer, reader, close: async () => { await producer.close(); await reader.close(); } };
});
