import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthReport } from '../../core/health-monitor.ts';
import type { Metrics } from '../../core/metrics/metrics.ts';

const liveness: ReadonlySet<string> = new Set(['/health/live', '/healthz', '/livez']);
const readiness: ReadonlySet<string> = new Set(['/ready', '/readyz', '/health/ready']);
/** The probe paths served (deployment manifests are checked against them). */
export const healthPaths = { liveness, readiness };

export interface ProbeSources {
  metrics: () => Metrics;
  report: () => HealthReport;
  /** The pattern launcher polls `/health` and wants 200 while the process is alive. */
  stopping: () => boolean;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // Probe answers describe this instant: no cache between the prober and us may replay an old one.
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** HTTP/1.1 routes beside gRPC: Prometheus `/metrics`, liveness and readiness probes. */
export function probeHandler(sources: ProbeSources) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/metrics') {
      const { registry } = sources.metrics();
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => json(res, 500, { error: `metrics collection failed: ${String(err)}` }),
      );
      return;
    }
    if (liveness.has(path) || path === '/health') {
      return json(res, 200, { status: 'alive', stopping: sources.stopping() });
    }
    if (readiness.has(path)) {
      const report = sources.report();
      return json(res, report.ready ? 200 : 503, { ready: report.ready, status: report.status, reason: report.message, details: report.details });
    }
    json(res, 404, { error: `no route ${path}; try /metrics, /health/live, /health/ready` });
  };
}
