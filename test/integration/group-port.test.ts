import { inject } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { kafkaClients } from '../../core/kafka/index.ts';
import { groupPortContract } from '../contract/group-port.contract.ts';

groupPortContract('the real adapter on the real broker', () => {
  const clients = kafkaClients(loadConfig({ env: { KAFKA_BROKERS: inject('kafkaBrokers') } }));
  const groups = clients.groups();
  const reader = clients.reader();
  const producer = clients.producer();
  return { groups, reader, producer, close: async () => { await groups.close(); await producer.close(); await reader.close(); } };
});
