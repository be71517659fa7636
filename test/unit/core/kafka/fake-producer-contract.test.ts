import { producerPortContract } from '../../../contract/producer-port.contract.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog, FakeReader } from '../../../support/fake-reader.ts';

// One log for every fixture, as one broker serves every client.
const log = new FakeLog();

producerPortContract('in-memory fake', () => {
  const producer = new FakeProducer(log);
  const reader = new FakeReader(log);
  return { producer, reader, close: async () => { await producer.close(); await reader.close(); } };
});
