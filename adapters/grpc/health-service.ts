import { HealthImplementation } from 'grpc-health-check';
import type { handleUnaryCall, sendUnaryData, Server, ServerUnaryCall } from '@grpc/grpc-js';
import type { HealthReport } from '../../core/health-monitor.ts';
import type { Runtime } from './runtime.ts';

/** Names grpc.health.v1 answers for: the whole server and the plugin. Data services add theirs. */
export const healthServiceNames = ['', 'kafka'];

/**
 * grpc.health.v1.Health (Check and Watch), kept in step with the health monitor: ready → SERVING, otherwise
 * NOT_SERVING, and NOT_SERVING for good once shutdown begins. Besides change notifications it re-reads the report
 * every second, because readiness also lapses with time (a broker that stopped answering) and with the credentials.
 */
export function addHealthService(server: Server, runtime: Runtime, names: string[] = healthServiceNames): { refresh: () => void } {
  const impl = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as const])));
  // Check answers from the report of this instant (as /ready and HealthCheck do), not from the last refresh.
  const withFreshCheck: Parameters<HealthImplementation['addToServer']>[0] = {
    addService(definition, handlers) {
      const check = handlers.check as handleUnaryCall<unknown, unknown>;
      server.addService(definition, { ...handlers, check: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        refresh();
        check(call, callback);
      } });
    },
  };
  impl.addToServer(withFreshCheck);
  let unsubscribe: (() => void) | undefined;
  let monitor: unknown;
  let current: 'SERVING' | 'NOT_SERVING' = 'NOT_SERVING';
  const apply = (report: HealthReport) => {
    const status = report.ready && !runtime.stopping ? 'SERVING' : 'NOT_SERVING';
    // HealthImplementation writes to every Watch stream on each setStatus; Watch must only speak on a change.
    if (status === current) return;
    current = status;
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
