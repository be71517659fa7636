import { HealthImplementation } from 'grpc-health-check';
import type { Server } from '@grpc/grpc-js';
import type { HealthReport } from '../../core/health-monitor.ts';
import type { Runtime } from './runtime.ts';

/** Names grpc.health.v1 answers for: the whole server and the plugin. Data services add theirs. */
export const healthServiceNames = ['', 'kafka'];

/**
 * grpc.health.v1.Health (Check and Watch), kept in step with the health monitor: ready → SERVING, otherwise
 * NOT_SERVING, and NOT_SERVING for good once shutdown begins.
 */
export function addHealthService(server: Server, runtime: Runtime, names: string[] = healthServiceNames): { refresh: () => void } {
  const impl = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as const])));
  impl.addToServer(server);
  let unsubscribe: (() => void) | undefined;
  let monitor: unknown;
  const apply = (report: HealthReport) => {
    const status = report.ready && !runtime.stopping ? 'SERVING' : 'NOT_SERVING';
    for (const name of names) impl.setStatus(name, status);
  };
  const refresh = () => {
    // Initialize may have replaced the monitor: follow the current one.
    if (monitor !== runtime.deps.health) {
      unsubscribe?.();
      monitor = runtime.deps.health;
      unsubscribe = runtime.deps.health.onChange(apply);
    }
    apply(runtime.deps.health.report());
  };
  refresh();
  const timer = setInterval(refresh, 1_000);
  timer.unref();
  return { refresh };
}
