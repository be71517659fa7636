import { groupPortContract } from '../../../contract/group-port.contract.ts';
import { FakeGroups } from '../../../support/fake-group.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog, FakeReader } from '../../../support/fake-reader.ts';

// One log for every fixture, as one broker serves every client.
const log = new FakeLog();

groupPortContract('in-memory fake', () => {
  const groups = new FakeGroups(log);
  const reader = new FakeReader(log);
  const producer = new FakeProducer(log);
  return { groups, reader, producer, close: async () => { await groups.close(); await producer.close(); await reader.close(); } };
});
