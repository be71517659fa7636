import { FakeKafka } from '../../../support/fake-kafka.ts';
import { kafkaPortContract } from '../../../contract/kafka-port.contract.ts';

kafkaPortContract('in-memory fake', () => new FakeKafka());
