import type { TracingConfig } from '../config/tracing.ts';

export const defaultServiceName = 'prism-kafka-plugin';
/** Where the OTLP/HTTP exporter sends traces when only OTEL_TRACES_EXPORTER=otlp is set (the spec's default). */
export const defaultTracesUrl = 'http://localhost:4318/v1/traces';

/** How tracing runs, once the configuration says it is on. */
export interface TracingSettings {
  /** The URL spans are posted to (OTLP over HTTP, protobuf bodies). */
  url: string;
  serviceName: string;
  /** Resource attributes beyond service.name and service.version. */
  resource: Record<string, string>;
  sampler: TracingConfig['sampler'];
  /** The traceidratio samplers' ratio. */
  ratio: number;
  /** The batch span processor's settings that were set (the SDK's defaults otherwise). */
  batch: TracingConfig['batch'];
}

/**
 * Whether tracing is on, and with what: off unless an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp; OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off whatever else is set.
 */
export function tracingSettings(c: TracingConfig): TracingSettings | undefined {
  if (c.sdkDisabled || c.exporter === 'none') return undefined;
  if (c.exporter === undefined && c.endpoint === undefined && c.tracesEndpoint === undefined) return undefined;
  // The spec: a signal-specific endpoint is used as is; the base endpoint gets the signal's path appended.
  const url = c.tracesEndpoint ?? (c.endpoint === undefined ? defaultTracesUrl : `${c.endpoint.replace(/\/+$/, '')}/v1/traces`);
  const { 'service.name': fromResource, ...resource } = c.resourceAttributes ?? {};
  return { url, serviceName: c.serviceName ?? fromResource ?? defaultServiceName, resource, sampler: c.sampler, ratio: c.samplerArg ?? 1, batch: c.batch };
}
