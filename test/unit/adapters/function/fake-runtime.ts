import { FunctionRuntime, type FunctionRuntimeOptions } from '../../../../adapters/function/runtime.ts';
import { FakeKafka } from '../../../support/fake-kafka.ts';
import { FakeProducer } from '../../../support/fake-producer.ts';
import { FakeLog, FakeReader } from '../../../support/fake-reader.ts';
import { FakeGroups } from './fake-groups.ts';

/** A function runtime over in-memory Kafka fakes, with its JSON log lines collected. */
export function fakeRuntime(options: FunctionRuntimeOptions = {}) {
  const log = new FakeLog();
  log.createTopic('orders', 3);
  const kafka = new FakeKafka();
  const producer = new FakeProducer(log, () => 1_700_000_000_000);
  const reader = new FakeReader(log);
  const groups = new FakeGroups(log);
  const lines: string[] = [];
  const runtime = new FunctionRuntime({
    env: { KAFKA_BROKERS: 'fake:9092', PRISM_LOG_LEVEL: 'debug' },
    logWrite: (l) => lines.push(l),
    overrides: { kafka, producer, reader, groups },
    ...options,
  });
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { runtime, log, kafka, producer, reader, groups, logs };
}

let n = 0;
/** A Lambda-like context with `ms` left. */
export const lambdaContext = (ms = 5_000) => {
  const until = Date.now() + ms;
  return { awsRequestId: `req-${++n}`, functionName: 'prism-kafka-test', getRemainingTimeInMillis: () => until - Date.now() };
};
