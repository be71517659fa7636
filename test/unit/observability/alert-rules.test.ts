import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireTool } from '../../support/prometheus.ts';
import { alertRules, dashboard, observabilityDir, panelsOf, substitute, withoutThresholds } from './rules.ts';

/** Runs promtool in deploy/observability/ (the test file names alerts.yaml relative to itself). */
function promtool(...args: string[]): { status: number | null; output: string } {
  requireTool('promtool');
  const r = spawnSync('promtool', args, { cwd: observabilityDir, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('deploy/observability/alerts.yaml', () => {
  it('passes promtool check rules', () => {
    const r = promtool('check', 'rules', 'alerts.yaml');
    expect(r.output).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(r.status).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yaml), which cover every alert', () => {
    const r = promtool('test', 'rules', 'alerts.test.yaml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const tests = readFileSync(`${observabilityDir}alerts.test.yaml`, 'utf8');
    for (const { alert } of alertRules()) expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n[\\s\\S]*?exp_labels`));
  });

  it('gives every alert a for:, a severity, a summary, a description and a runbook hint into the README', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['KafkaPluginDown', 'KafkaPluginNotReady', 'KafkaPluginErrorRatioHigh', 'KafkaPluginDeadLettering', 'KafkaPluginCommitFailures', 'KafkaPluginCredentialsExpiring', 'KafkaPluginConsumerLagGrowing', 'KafkaPluginProducerQueueBacklog']));
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
      expect(r.annotations?.runbook, r.alert).toBe(`README.md#alerts-and-dashboard (${r.alert})`);
      // The integration test evaluates this form; a threshold it cannot strip would leave it returning nothing.
      expect(withoutThresholds(r.expr), r.alert).not.toMatch(/(?:==|>=|<=|>|<)\s*\d/);
    }
  });

  it('strips thresholds, not label matchers', () => {
    expect(withoutThresholds('sum by (a) (rate(x{status!="OK",s=~"A|B"}[5m])) / sum(rate(x[5m])) > 0.05')).toBe('sum by (a) (rate(x{status!="OK",s=~"A|B"}[5m])) / sum(rate(x[5m]))');
    expect(withoutThresholds('deriv(l[15m]) > 0\n  and sum(l) > 1000')).toBe('deriv(l[15m])\n  and sum(l)');
    expect(withoutThresholds('up{job="p"} == 0')).toBe('up{job="p"}');
  });
});

describe('deploy/observability/dashboard.json', () => {
  const d = dashboard();
  it('is a Grafana dashboard (schemaVersion ≥ 39) whose every panel and target uses the ${datasource} variable', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const data = panelsOf(d).filter((p) => p.type !== 'row');
    expect(data.length).toBeGreaterThan(10);
    for (const p of data) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('has the rows operators look for, each with panels', () => {
    const rows = d.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Health', 'Throughput', 'Latency (unary calls)', 'Errors', 'Consumer lag', 'Credentials', 'Producer queue', 'Stream lifetimes (Tail, Subscribe, Consume)']);
    const exprs = panelsOf(d).flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    for (const metric of ['kafka_plugin_health_status', 'prism_request_duration_seconds_bucket', 'prism_stream_duration_seconds_bucket', 'prism_consumer_lag', 'prism_credential_ttl_seconds', 'kafka_plugin_producer_queue_length', 'prism_requests_total', 'kafka_plugin_build_info']) expect(exprs).toContain(metric);
  });

  it('leaves no variable unknown once substituted', () => {
    for (const t of panelsOf(d).flatMap((p) => p.targets ?? [])) expect(substitute(t.expr, { namespace: 'ns', __rate_interval: '1m' })).not.toContain('$');
  });
});
