import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type SpanExporter, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '../logger.ts';
import { OtelCallTrace } from './otel-call.ts';
import type { TracingSettings } from './settings.ts';
import type { Tracing } from './tracing.ts';

/** How long a flush or shutdown may wait for the receiver: shutdown must not hang on a collector that is gone. */
const defaultFlushMs = 2_000;

export interface TracingOptions {
  version: string;
  /** Where the SDK's own complaints go (a failed export): warnings in our log. */
  log?: Logger;
  /** Test seam: spans go here (an InMemorySpanExporter) instead of to the OTLP receiver at `settings.url`. */
  exporter?: SpanExporter;
  /** Test seam: a processor of the test's (a SimpleSpanProcessor exports each span as it ends). */
  processor?: SpanProcessor;
}

function samplerOf(s: TracingSettings): Sampler {
  const ratio = new TraceIdRatioBasedSampler(s.ratio);
  switch (s.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return ratio;
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio });
    default: return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The SDK's diagnostics (export failures) as warnings of the process's logger. */
function diagnostics(log: Logger): DiagLogger {
  const warn = (message: string, ...args: unknown[]) => log.warn({ otel: args.map(String) }, `tracing: ${message}`);
  const ignore = () => undefined;
  return { error: warn, warn, info: ignore, debug: ignore, verbose: ignore };
}

const within = (ms: number, work: Promise<unknown>): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  return Promise.race([work.then(() => undefined, () => undefined), expired]).finally(() => clearTimeout(timer));
};

/**
 * Tracing on OpenTelemetry's SDK, set up by hand (a bundle defeats require-hook auto-instrumentation): one tracer
 * provider per process, nothing registered globally, spans batched to an OTLP/HTTP receiver. The exporter reads
 * the rest of the standard variables itself (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE…).
 */
export function createTracing(settings: TracingSettings, options: TracingOptions): Tracing {
  if (options.log !== undefined) diag.setLogger(diagnostics(options.log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: settings.url });
  const { scheduleDelayMs, maxQueueSize, maxExportBatchSize, exportTimeoutMs } = settings.batch;
  const processor = options.processor ?? new BatchSpanProcessor({
    exporter,
    ...(scheduleDelayMs === undefined ? {} : { scheduledDelayMillis: scheduleDelayMs }),
    ...(maxQueueSize === undefined ? {} : { maxQueueSize }),
    ...(maxExportBatchSize === undefined ? {} : { maxExportBatchSize }),
    ...(exportTimeoutMs === undefined ? {} : { exportTimeoutMillis: exportTimeoutMs }),
  });
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...settings.resource, 'service.name': settings.serviceName, 'service.version': options.version })),
    sampler: samplerOf(settings),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('prism-kafka-plugin', options.version);
  let closing: Promise<void> | undefined;
  return {
    startCall: (start) => new OtelCallTrace(tracer, start),
    flush: (ms = defaultFlushMs) => within(ms, provider.forceFlush()),
    shutdown: (ms = defaultFlushMs) => (closing ??= within(ms, provider.shutdown())),
  };
}
