import { loadConfig, type ConfigSources } from '../../core/config/load.ts';
import { createLogger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../core/secrets/scrubber.ts';
import { FunctionRuntime, type FunctionRuntimeOptions } from '../../adapters/function/runtime.ts';
import type { Deps } from '../../adapters/grpc/compose.ts';
import { Runtime } from '../../adapters/grpc/runtime.ts';
import { FakeGroups } from './fake-group.ts';
import { FakeKafka } from './fake-kafka.ts';
import { FakeProducer } from './fake-producer.ts';
import { FakeLog, FakeReader } from './fake-reader.ts';

/** The in-memory Kafka side both runtimes run on: one FakeLog behind the producer, the reader and the groups. */
export function fakeKafkaDeps(options: { topics?: Record<string, number>; now?: () => number } = {}) {
  const log = new FakeLog();
  for (const [topic, partitions] of Object.entries(options.topics ?? {})) log.createTopic(topic, partitions);
  return { log, kafka: new FakeKafka(), producer: new FakeProducer(log, options.now), reader: new FakeReader(log), groups: new FakeGroups(log) };
}

/** The gRPC adapter's Runtime on in-memory fakes (no network): its log lines are collected in `logs`. */
export function fakeRuntime(env: Record<string, string> = {}, overrides: Partial<Deps> = {}) {
  const sources: ConfigSources = { env };
  const scrubber = new SecretScrubber();
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', service: 'test', version: 'test', scrubber, write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const { kafka, producer, groups, reader } = fakeKafkaDeps();
  const runtime = new Runtime(loadConfig(sources), { log, metrics: createMetrics({ namespace: 'test', defaultMetrics: false }), scrubber }, {
    kafka, producer, groups, reader, ...overrides,
  });
  return { runtime, sources, logs, log };
}

/** The function adapter's FunctionRuntime on in-memory fakes, with topic `orders` (3 partitions) and its JSON log lines. */
export function fakeFunctionRuntime(options: FunctionRuntimeOptions = {}) {
  const { log, kafka, producer, reader, groups } = fakeKafkaDeps({ topics: { orders: 3 }, now: () => 1_700_000_000_000 });
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
