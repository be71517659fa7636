import { ConfigError, loadConfig, type ConfigSources } from '../../core/config/load.ts';
import { readInitializeConfig } from '../../core/config/struct.ts';
import type { CallContext } from '../../core/call/context.ts';
import { health } from '../../handlers/health.ts';
import { interfaceDeclarations } from './interfaces.ts';
import type { Runtime } from './runtime.ts';

/** prism.interfaces.PatternMetadata, as proto-loader writes it. */
export interface PatternMetadata {
  name: string;
  version: string;
  interfaces: ReturnType<typeof interfaceDeclarations>;
  extra: Record<string, string>;
}
export interface InitializeResponse { success: boolean; error: string; metadata?: PatternMetadata }
export interface StartResponse { success: boolean; error: string; data_endpoint: string }
/** int64 counts travel as decimal strings (proto-loader `longs: String`). */
export interface DrainResponse { success: boolean; error: string; drained_operations: string; aborted_operations: string }
export interface StopResponse { success: boolean; error: string }
export interface HealthCheckResponse { status: string; message: string; details: Record<string, string> }

export interface LifecycleOperationsOptions {
  runtime: Runtime;
  /** The sources the process started with; Initialize's Struct is layered between them and the flags. */
  sources: ConfigSources;
  /** Drain/Stop timeout when the caller sends 0 (the configured shutdown grace). */
  defaultTimeoutMs: number;
}

/** The lifecycle as both transports need it: LifecycleInterface (gRPC unary) and callback mode (ProxyControlPlane). */
export type LifecycleOperations = ReturnType<typeof lifecycleOperations>;

const millis = (seconds: number | undefined, fallbackMs: number) => (seconds !== undefined && seconds > 0 ? seconds * 1000 : fallbackMs);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Initialize, Start, Drain, Stop and HealthCheck, transport-neutral. Every failure travels in-band (success=false,
 * error=…), as Prism's lifecycle contract wants; none of these rejects.
 */
export function lifecycleOperations({ runtime, sources, defaultTimeoutMs }: LifecycleOperationsOptions) {
  const metadata = (): PatternMetadata => {
    const { config } = runtime.deps;
    return { name: config.plugin.name, version: config.plugin.version, interfaces: interfaceDeclarations(), extra: { backend: 'kafka' } };
  };
  const failed = (ctx: CallContext, operation: string, err: unknown) => {
    ctx.log.error({ err }, `${operation} failed`);
    return { success: false, error: message(err) };
  };

  return {
    metadata,

    /** Applies backend keys from the proxy's Struct (already JSON) on top of the start-up sources; `{}` keeps the config. */
    async initialize(config: Record<string, unknown>, ctx: CallContext): Promise<InitializeResponse> {
      if (runtime.stopping) return { success: false, error: 'the plugin is stopping; it cannot be initialized again' };
      try {
        if (Object.keys(config).length > 0) {
          const next = loadConfig({ ...sources, overrides: [readInitializeConfig(config), ...(sources.overrides ?? [])] });
          // The proxy may send the same config again (it initializes at boot and again over RPC): keep the clients.
          if (JSON.stringify(next) === JSON.stringify(runtime.deps.config)) {
            ctx.log.info('Initialize: configuration unchanged');
          } else {
            await runtime.reconfigure(next);
            ctx.log.info({ brokers: next.kafka.brokers, topic: next.kafka.topic }, 'reconfigured by Initialize');
          }
        }
        return { success: true, error: '', metadata: metadata() };
      } catch (err) {
        if (err instanceof ConfigError) return { success: false, error: err.message };
        return failed(ctx, 'initialize', err);
      }
    },

    /** Begins background work and returns at once; `data_endpoint` empty means "this same port". */
    start(): StartResponse {
      if (runtime.stopping) return { success: false, error: 'the plugin is stopping; it cannot be started again', data_endpoint: '' };
      runtime.start();
      return { success: true, error: '', data_endpoint: '' };
    },

    async drain(req: { timeout_seconds?: number; reason?: string }, ctx: CallContext): Promise<DrainResponse> {
      try {
        const { drained, aborted } = await runtime.drain(millis(req.timeout_seconds, defaultTimeoutMs), req.reason || 'drain requested');
        return { success: true, error: '', drained_operations: String(drained), aborted_operations: String(aborted) };
      } catch (err) {
        return { ...failed(ctx, 'drain', err), drained_operations: '0', aborted_operations: '0' };
      }
    },

    /** Drains (up to the timeout) and closes the Kafka clients; ending the process is the caller's decision. */
    async stop(req: { timeout_seconds?: number; reason?: string }, ctx: CallContext): Promise<StopResponse> {
      try {
        await runtime.stop(millis(req.timeout_seconds, defaultTimeoutMs), req.reason || 'Stop requested');
        return { success: true, error: '' };
      } catch (err) {
        return failed(ctx, 'stop', err);
      }
    },

    /** A fresh broker round trip; never fails: a failure is an UNHEALTHY answer saying why. */
    async healthCheck(ctx: CallContext): Promise<HealthCheckResponse> {
      try {
        const report = await health(runtime.deps, {}, ctx);
        return { status: `HEALTH_STATUS_${report.status}`, message: report.message, details: report.details };
      } catch (err) {
        return { status: 'HEALTH_STATUS_UNHEALTHY', message: `health check failed: ${message(err)}`, details: {} };
      }
    },
  };
}
