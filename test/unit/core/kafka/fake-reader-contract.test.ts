import { readerPortContract } from '../../../contract/reader-port.contract.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog, FakeReader } from '../../../support/fake-reader.ts';

// One log for every fixture, as one broker serves every client.
const log = new FakeLog();

readerPortContract('in-memory fake', () => {
  const reader = new FakeReader(log);
  const producer = new FakeProducer(log);
  return { reader, producer, close: async () => { await reader.close(); await producer.close(); } };
});
