import { loadConfig, type ConfigSources } from '../../core/config/load.ts';
import { createLogger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../core/secrets/scrubber.ts';
import { Runtime } from '../../adapters/grpc/runtime.ts';
import { startServer, type RunningServer } from '../../adapters/grpc/server.ts';
import { captureLines, registerSecretsFromEnv } from './test-logs.ts';

export interface TestPlugin {
  runtime: Runtime;
  server: RunningServer;
  address: string;
  logs: string[];
  stopped: Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the real gRPC adapter in-process on a free loopback port, with logs captured (also kept in
 * `.cache/test-logs/` for the log scan, with the secrets of `env` registered: test/support/test-logs.ts).
 */
export async function startPlugin(env: Record<string, string>): Promise<TestPlugin> {
  registerSecretsFromEnv(env);
  const keep = captureLines('in-process-plugin');
  const sources: ConfigSources = { env: { PRISM_CONTROL_PLANE_PORT: '0', PRISM_LISTEN_HOST: '127.0.0.1', ...env } };
  const config = loadConfig(sources);
  const logs: string[] = [];
  const scrubber = new SecretScrubber();
  const write = (line: string) => {
    logs.push(line);
    keep(line);
  };
  const log = createLogger({ level: 'debug', service: 'prism-kafka-plugin', version: 'test', scrubber, write });
  const runtime = new Runtime(config, { log, metrics: createMetrics({ namespace: 'test', defaultMetrics: false }), scrubber });
  let onStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  const server = await startServer({ runtime, sources, port: 0, host: '127.0.0.1', onStopped, graceMs: 5_000, maxReceiveBytes: 2 * 1024 * 1024 });
  return {
    runtime,
    server,
    address: `127.0.0.1:${server.port}`,
    logs,
    stopped,
    close: async () => {
      await runtime.stop(2_000, 'test finished');
      await server.close(1_000);
    },
  };
}
