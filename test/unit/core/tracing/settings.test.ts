import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../core/config/load.ts';
import { tracingSettings } from '../../../../core/tracing/settings.ts';

const settings = (env: Record<string, string>) => tracingSettings(loadConfig({ env }).tracing);
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('tracing settings from the OTEL_* variables', () => {
  it('is off when nothing is set, and when only a sampler or a service name is', () => {
    expect(settings({})).toBeUndefined();
    expect(settings({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
  });

  it('is on with a base endpoint, posting to its /v1/traces', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      url: 'http://collector:4318/v1/traces', serviceName: 'prism-kafka-plugin', resource: {}, sampler: 'parentbased_always_on', ratio: 1, batch: {},
    });
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' })?.url).toBe('http://collector:4318/otlp/v1/traces');
  });

  it('uses a traces endpoint as it is, over the base endpoint', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/custom' })?.url).toBe('https://b/custom');
  });

  it('is on with OTEL_TRACES_EXPORTER=otlp alone, at the spec\'s default endpoint', () => {
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp' })?.url).toBe('http://localhost:4318/v1/traces');
  });

  it('is off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, whatever else is set', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('treats an empty value as unset, as the OpenTelemetry spec says', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SDK_DISABLED: '' })).toBeUndefined();
  });

  it('takes the service name from OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, and keeps the other attributes', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' };
    expect(settings({ ...on, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,k8s.pod.name=p%2D1' })).toMatchObject({ serviceName: 'from-attrs', resource: { 'k8s.pod.name': 'p-1' } });
    expect(settings({ ...on, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'named' })?.serviceName).toBe('named');
    expect(settings({ ...on, OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({ sampler: 'parentbased_traceidratio', ratio: 0.25 });
    expect(settings({ ...on, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BSP_MAX_QUEUE_SIZE: '100' })?.batch).toEqual({ scheduleDelayMs: 200, maxQueueSize: 100 });
  });

  it('reports every bad value at once, naming its variable', () => {
    const found = problems({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_SDK_DISABLED: 'maybe',
      OTEL_RESOURCE_ATTRIBUTES: 'novalue',
    });
    expect(found).toHaveLength(7);
    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_EXPORTER', 'OTEL_TRACES_SAMPLER:', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SDK_DISABLED', 'OTEL_RESOURCE_ATTRIBUTES']) {
      expect(found.some((p) => p.includes(`env ${name}`))).toBe(true);
    }
    expect(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })[0]).toContain('env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
  });
});
