import { loadConfig, type ConfigSources } from '../../core/config/load.ts';
import type { GroupPort } from '../../core/kafka/group-port.ts';
import { createLogger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../core/secrets/scrubber.ts';
import type { Deps } from '../../adapters/grpc/compose.ts';
import { Runtime } from '../../adapters/grpc/runtime.ts';
import { FakeKafka } from './fake-kafka.ts';
import { FakeProducer } from './fake-producer.ts';
import { FakeReader } from './fake-reader.ts';

/** A group port for tests that never join a group. */
export const idleGroups = (): GroupPort => ({
  subscribe: () => Promise.reject(new Error('no groups in this test')),
  offsets: () => Promise.resolve([]),
  seek: () => Promise.resolve(new Map()),
  close: () => Promise.resolve(),
});

/** The gRPC adapter's Runtime on in-memory fakes (no network): its log lines are collected in `logs`. */
export function fakeRuntime(env: Record<string, string> = {}, overrides: Partial<Deps> = {}) {
  const sources: ConfigSources = { env };
  const scrubber = new SecretScrubber();
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', service: 'test', version: 'test', scrubber, write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const runtime = new Runtime(loadConfig(sources), { log, metrics: createMetrics({ namespace: 'test', defaultMetrics: false }), scrubber }, {
    kafka: new FakeKafka(), producer: new FakeProducer(), groups: idleGroups(), reader: new FakeReader(), ...overrides,
  });
  return { runtime, sources, logs, log };
}
