import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureChunks } from './test-logs.ts';

/** A span as the collector's file exporter writes it (OTLP JSON: hex ids, enum kinds as numbers). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 2 SERVER, 5 CONSUMER (OTLP's SpanKind). */
  kind: number;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
  /** Added here: the resource attributes of the span's batch. */
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** The base URL to give the plugin as OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  /** Every span received so far. */
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** An OTLP attribute value ({stringValue}, {intValue: "5"}…) as a plain value. */
export const attributeValue = (v: Record<string, unknown>): unknown => v.stringValue ?? (v.intValue === undefined ? undefined : Number(v.intValue)) ?? v.boolValue ?? v.doubleValue;

export const attributesOf = (a: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> =>
  Object.fromEntries((a ?? []).map(({ key, value }) => [key, attributeValue(value)]));

function read(file: string): OtlpSpan[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  type Batch = { resourceSpans?: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: { spans?: Omit<OtlpSpan, 'resource'>[] }[] }[] };
  return text.split('\n').filter((l) => l.trim() !== '').flatMap((line) => (JSON.parse(line) as Batch).resourceSpans ?? []).flatMap((rs) => {
    const resource = attributesOf(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => ({ ...s, resource })));
  });
}

/**
 * Starts the real OTLP receiver (a minimal OpenTelemetry Collector, scripts/install-otlp-receiver.sh) on a free
 * loopback port: OTLP over HTTP in, the file exporter out (one OTLP JSON line per export), no other port opened.
 */
export async function startOtlpReceiver(binary: string): Promise<OtlpReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-receiver-'));
  const port = await freePort();
  const file = join(dir, 'spans.jsonl');
  writeFileSync(join(dir, 'config.yaml'), [
    'receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:' + port + '" } } } }',
    `exporters: { file: { path: "${file}", flush_interval: 100ms } }`,
    'service:',
    '  telemetry: { metrics: { level: none }, logs: { level: warn } }',
    '  pipelines: { traces: { receivers: [otlp], exporters: [file] } }',
  ].join('\n'));
  const keep = captureChunks('otlp-receiver');
  const child = spawn(binary, [`--config=file:${join(dir, 'config.yaml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => keep(c));
  child.stderr.on('data', (c: Buffer) => {
    keep(c);
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    // An empty export request is a valid one: 200 once the receiver listens.
    const ok = await fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the OTLP receiver did not start on port ${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    spans: () => read(file),
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
