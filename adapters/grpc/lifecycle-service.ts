import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ConfigSources } from '../../core/config/load.ts';
import { lifecycleOperations } from './lifecycle-operations.ts';
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

/** prism.interfaces.LifecycleInterface. Errors travel in-band (success=false, error=…) with gRPC status OK. */
export function lifecycleService({ runtime, sources, onStopped, defaultTimeoutMs }: LifecycleOptions): UntypedServiceImplementation {
  const ops = lifecycleOperations({ runtime, sources, defaultTimeoutMs });
  const lifecycle = { data: false };
  return {
    Initialize: unary(runtime, 'initialize', (req: { name?: string; version?: string; config?: ProtoStruct }, ctx) => ops.initialize(structToJson(req.config), ctx), lifecycle),
    Start: unary(runtime, 'start', () => Promise.resolve(ops.start()), lifecycle),
    Drain: unary(runtime, 'drain', (req: { timeout_seconds?: number; reason?: string }, ctx) => ops.drain(req, ctx), lifecycle),
    Stop: unary(runtime, 'stop', async (req: { timeout_seconds?: number }, ctx) => {
      const res = await ops.stop(req, ctx);
      // The Rust proxy calls Stop and then waits for the process to end: end it once this answer is written.
      setImmediate(onStopped);
      return res;
    }, lifecycle),
    HealthCheck: unary(runtime, 'health_check', (_req: unknown, ctx) => ops.healthCheck(ctx), lifecycle),
  };
}
