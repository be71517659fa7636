import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ConfigError, loadConfig, type ConfigSources } from '../../core/config/load.ts';
import { readInitializeConfig } from '../../core/config/struct.ts';
import { health } from '../../handlers/health.ts';
import { interfaceDeclarations } from './interfaces.ts';
import { structToJson, type ProtoStruct } from './struct.ts';
import type { Runtime } from './runtime.ts';
import { unary } from './unary.ts';

export interface LifecycleOptions {
  runtime: Runtime;
  /** The sources the process started with; Initialize's Struct is layered on top of them. */
  sources: ConfigSources;
  /** Called after Stop has answered, to end the process. */
  onStopped: () => void;
  /** Default drain/stop timeout when the caller sends 0. */
  defaultTimeoutMs: number;
}

const seconds = (value: number | undefined, fallbackMs: number) => (value !== undefined && value > 0 ? value * 1000 : fallbackMs);

/** prism.interfaces.LifecycleInterface. Errors travel in-band (success=false, error=…) with gRPC status OK. */
export function lifecycleService({ runtime, sources, onStopped, defaultTimeoutMs }: LifecycleOptions): UntypedServiceImplementation {
  const lifecycle = { data: false };
  return {
    Initialize: unary(runtime, 'initialize', async (req: { name?: string; version?: string; config?: ProtoStruct }, ctx) => {
      const json = structToJson(req.config);
      try {
        if (Object.keys(json).length > 0) {
          const config = loadConfig({ ...sources, overrides: [readInitializeConfig(json), ...(sources.overrides ?? [])] });
          await runtime.reconfigure(config);
          ctx.log.info({ brokers: config.kafka.brokers, topic: config.kafka.topic }, 'reconfigured by Initialize');
        }
      } catch (err) {
        if (err instanceof ConfigError) return { success: false, error: err.message };
        throw err;
      }
      const { config } = runtime.deps;
      return {
        success: true,
        error: '',
        metadata: { name: config.plugin.name, version: config.plugin.version, interfaces: interfaceDeclarations(), extra: { backend: 'kafka' } },
      };
    }, lifecycle),

    Start: unary(runtime, 'start', () => {
      runtime.start();
      return Promise.resolve({ success: true, error: '', data_endpoint: '' });
    }, lifecycle),

    Drain: unary(runtime, 'drain', async (req: { timeout_seconds?: number; reason?: string }) => {
      const { drained, aborted } = await runtime.drain(seconds(req.timeout_seconds, defaultTimeoutMs), req.reason || 'drain requested');
      return { success: true, error: '', drained_operations: String(drained), aborted_operations: String(aborted) };
    }, lifecycle),

    Stop: unary(runtime, 'stop', async (req: { timeout_seconds?: number }) => {
      await runtime.stop(seconds(req.timeout_seconds, defaultTimeoutMs), 'Stop requested');
      // End the process after this answer has been written.
      setImmediate(onStopped);
      return { success: true, error: '' };
    }, lifecycle),

    HealthCheck: unary(runtime, 'health_check', async (_req: unknown, ctx) => {
      const report = await health(runtime.deps, {}, ctx);
      return { status: `HEALTH_STATUS_${report.status}`, message: report.message, details: report.details };
    }, lifecycle),
  };
}
