import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** deploy/observability/, where the alert rules and the dashboard live. */
export const observabilityDir = fileURLToPath(new URL('../../../deploy/observability/', import.meta.url));

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alerting rules of alerts.yaml, in file order. */
export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(`${observabilityDir}alerts.yaml`, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/**
 * An alert's expression without its threshold comparisons (`> 0.05`, `< 300`, `== 0`…), so that it returns the
 * watched series whatever their values: what must exist for the alert to be able to fire. Label matchers (`!=`,
 * `=~`) are followed by a string, never a number, and stay.
 */
export function withoutThresholds(expr: string): string {
  return expr.replace(/\s*(?:==|!=|>=|<=|>|<)\s*-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?=\s|\)|$)/g, '').trim();
}

interface Panel { type: string; title: string; datasource?: { uid?: string }; targets?: { expr: string; datasource?: { uid?: string } }[]; panels?: Panel[] }
export interface Dashboard {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: unknown }[] };
  panels: Panel[];
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(`${observabilityDir}dashboard.json`, 'utf8')) as Dashboard;
}

/** Every panel (rows' nested panels included) with its targets, in order. */
export function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** A target expression as Prometheus would receive it from Grafana with these variable values. */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$(__\w+|\w+)|\$\{(\w+)\}/g, (whole, a?: string, b?: string) => values[(a ?? b)!] ?? whole);
}
