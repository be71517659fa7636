import { z } from 'zod';

/**
 * The `tracing` section of the configuration: the standard OpenTelemetry SDK variables (OTEL_*, see README
 * "Tracing"), parsed with the rest of the configuration so a bad value is reported with every other problem.
 * Whether tracing is on follows from them (core/tracing/settings.ts).
 */

const lower = <T extends string>(values: readonly [T, ...T[]], expected: string) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values, { error: `expected ${expected}` }));

/** OTEL_SDK_DISABLED: `true` or `false`, any case (the spec's only values). */
const flag = lower(['true', 'false'], 'true or false').transform((v) => v === 'true');

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL, e.g. http://localhost:4318' });

/** OTEL_RESOURCE_ATTRIBUTES: `key=value,key=value`, values percent-encoded (W3C Baggage style). */
const keyValues = z.string().transform((text, ctx) => {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    let value: string | undefined;
    try {
      value = at < 0 ? undefined : decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      value = undefined;
    }
    if (key === '' || value === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected key=value pairs separated by commas (at "${pair.trim()}")` });
      return z.NEVER;
    }
    out[key] = value;
  }
  return out;
});

const count = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });

export const samplers = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

export const tracingSchema = z
  .object({
    /** OTEL_SDK_DISABLED=true turns tracing off whatever else is set. */
    sdkDisabled: flag.default(false),
    /** OTEL_TRACES_EXPORTER: `otlp` (on, even without an endpoint: the spec's default one) or `none` (off). */
    exporter: lower(['otlp', 'none'], 'otlp or none').optional(),
    /** OTEL_EXPORTER_OTLP_ENDPOINT: the receiver's base URL; traces go to `<endpoint>/v1/traces`. */
    endpoint: httpUrl.optional(),
    /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL traces are posted to, used as is. */
    tracesEndpoint: httpUrl.optional(),
    /** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: only OTLP over HTTP with protobuf bodies is built in. */
    protocol: lower(['http/protobuf'], 'http/protobuf (grpc and http/json exporters are not built in)').optional(),
    /** OTEL_SERVICE_NAME: service.name of every span (prism-kafka-plugin by default). */
    serviceName: z.string().min(1, { error: 'expected a non-empty service name' }).optional(),
    /** OTEL_RESOURCE_ATTRIBUTES: more resource attributes (k8s.pod.name=…, deployment.environment.name=…). */
    resourceAttributes: keyValues.optional(),
    /** OTEL_TRACES_SAMPLER: the spec's built-in samplers. */
    sampler: lower(samplers, samplers.join(', ')).default('parentbased_always_on'),
    /** OTEL_TRACES_SAMPLER_ARG: the ratio of the traceidratio samplers, 0 to 1 (default 1). */
    samplerArg: z.coerce.number({ error: 'expected a ratio from 0 to 1' }).min(0, { error: 'expected a ratio from 0 to 1' }).max(1, { error: 'expected a ratio from 0 to 1' }).optional(),
    /** OTEL_BSP_*: the batch span processor (the SDK's defaults: 5000 ms, 2048 spans, 512 per export, 30000 ms). */
    batch: z
      .object({
        scheduleDelayMs: count('a positive number of milliseconds').optional(),
        maxQueueSize: count('a positive number of spans').optional(),
        maxExportBatchSize: count('a positive number of spans').optional(),
        exportTimeoutMs: count('a positive number of milliseconds').optional(),
      })
      .prefault({}),
  })
  .prefault({});

export type TracingConfig = z.output<typeof tracingSchema>;
