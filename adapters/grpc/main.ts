import { ConfigError, loadConfig, type ConfigSources } from '../../core/config/load.ts';
import type { Config } from '../../core/config/schema.ts';
import { saslEnabled } from '../../core/kafka/index.ts';
import { createLogger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics/metrics.ts';
import { SecretScrubber } from '../../core/secrets/scrubber.ts';
import { createTracing } from '../../core/tracing/otel.ts';
import { tracingSettings } from '../../core/tracing/settings.ts';
import { pluginVersion } from '../../core/version.ts';
import { connectToProxy, type CallbackConnection } from './callback/client.ts';
import { parseFlags, usage } from './flags.ts';
import { dataEndpoint, launchFields } from './launch.ts';
import { lifecycleOperations } from './lifecycle-operations.ts';
import { Runtime } from './runtime.ts';
import { startServer } from './server.ts';

/** Room for the request envelope around the largest record payload. */
const envelopeBytes = 64 * 1024;

function fail(message: string, code: number): never {
  process.stderr.write(`prism-kafka-plugin: ${message}\n`);
  process.exit(code);
}

function readConfig(argv: string[], env: NodeJS.ProcessEnv): { config: Config; sources: ConfigSources } {
  const flags = parseFlags(argv);
  if (flags.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  if (flags.version) {
    process.stdout.write(`prism-kafka-plugin ${pluginVersion}\n`);
    process.exit(0);
  }
  const sources: ConfigSources = {
    env,
    overrides: [flags.layer],
    ...(flags.configFile === undefined ? {} : { file: { path: flags.configFile, named: 'flag --config' } }),
  };
  try {
    const config = loadConfig(sources);
    return { config, sources };
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

/**
 * The entry of every launch mode (README, "Launch modes"): configuration, one server on one port (plus an HTTP-only
 * probe port when asked), callback mode when given a proxy address, ordered shutdown on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { config, sources } = readConfig(argv, process.env);
  // SIGTERM, Drain and Stop wait this long for in-flight calls (Kubernetes grants 30 s before SIGKILL).
  const graceMs = config.controlPlane.shutdownGrace;
  const scrubber = new SecretScrubber();
  const log = createLogger({ level: config.log.level, service: 'prism-kafka-plugin', version: config.plugin.version, scrubber });
  const metrics = createMetrics({ namespace: config.namespace });
  // Tracing is the process's, like the logger: set up once from the OTEL_* variables, flushed at exit.
  const traced = tracingSettings(config.tracing);
  const tracing = traced === undefined ? undefined : createTracing(traced, { version: pluginVersion, log });
  const runtime = new Runtime(config, { log, metrics, scrubber, tracing });

  let exiting = false;
  let proxy: CallbackConnection | undefined;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    // stdout is synchronous for files and pipes on Linux, so every log line is out before exit.
    process.exit(code);
  };

  const server = await startServer({
    runtime,
    sources,
    port: config.controlPlane.port,
    host: config.controlPlane.host,
    graceMs,
    maxReceiveBytes: config.kafka.maxMessageBytes + envelopeBytes,
    ...(config.controlPlane.metricsPort === undefined ? {} : { metricsPort: config.controlPlane.metricsPort }),
    onStopped: () => void closeAll().then(() => exit(0)),
  }).catch((err: NodeJS.ErrnoException & { port?: number }) => {
    const why = err.code === 'EADDRINUSE' ? 'the port is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    return fail(`cannot listen on ${config.controlPlane.host}:${err.port ?? config.controlPlane.port}: ${why}`, 1);
  });
  const closeAll = async () => {
    await proxy?.close();
    await server.close(1_000);
    // The spans of the last calls (Stop's own among them) go out before the process does.
    await tracing?.shutdown();
  };

  log.info({
    brokers: config.kafka.brokers,
    topic: config.kafka.topic,
    sasl_enabled: saslEnabled(config),
    compression: config.kafka.compression,
    acks: config.kafka.acks,
    port: server.port,
    ...(traced === undefined ? {} : { tracing_endpoint: traced.url, sampler: traced.sampler }),
    ...(server.metricsPort === undefined ? {} : { metrics_port: server.metricsPort }),
    ...launchFields(config, process.env, argv),
  }, 'kafka plugin initialized');
  // Launched by a container runtime nobody calls Start: probing begins now (Start stays idempotent).
  runtime.start();

  if (config.controlPlane.proxyAddr !== undefined) {
    const ops = lifecycleOperations({ runtime, sources, defaultTimeoutMs: graceMs });
    proxy = connectToProxy({
      address: config.controlPlane.proxyAddr,
      ops,
      log,
      heartbeatMs: config.controlPlane.heartbeatInterval,
      status: () => runtime.deps.health.report().status,
      registration: () => ({ pattern_name: config.plugin.name, pattern_version: config.plugin.version, process_id: process.pid, metadata: ops.metadata() }),
      dataEndpoint: dataEndpoint(config.controlPlane.host, server.port),
      // The proxy's shutdown drained and stopped the plugin already; what is left is to let go of the port.
      onShutdown: () => void server.close(1_000).then(() => tracing?.shutdown()).then(() => exit(0)),
    });
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting at once');
      exit(1);
      return;
    }
    log.info({ signal, grace_ms: graceMs }, 'shutdown requested');
    void runtime
      .stop(graceMs, `signal ${signal}`)
      .then(closeAll)
      .then(() => exit(0), (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
}

void main();
