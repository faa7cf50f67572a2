import { type Context, context, propagation, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  readonly serviceName: string;
  /** Where spans go: an exporter (OTLP in production, in-memory in tests). None: tracing is a no-op. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends (tests) instead of in batches. */
  readonly immediate?: boolean;
}

export interface Tracing {
  readonly tracer: Tracer;
  /**
   * True when spans go somewhere (an exporter is configured). Hot paths take their tracer only
   * then, so that a process without a collector does no span or header work at all.
   */
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for this process. Called once, from cmd/, never at import time.
 * W3C trace context is the propagation format, also in Kafka record headers. The sampler is the
 * SDK's from the standard variables (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`; default
 * parent-based always-on).
 */
export function startTracing(options: TracingOptions): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  let sdk: NodeSDK | undefined;
  if (options.exporter) {
    const processor = options.immediate
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(options.exporter);
    // Traces only: without empty readers and processors the SDK would also export OTLP metrics
    // and logs to the same endpoint (metrics are Prometheus's, logs are stdout's).
    sdk = new NodeSDK({
      serviceName: options.serviceName,
      spanProcessors: [processor],
      metricReaders: [],
      logRecordProcessors: [],
      instrumentations: [],
    });
    sdk.start();
  }
  return {
    tracer: trace.getTracer('tickmesh'),
    enabled: sdk !== undefined,
    shutdown: async () => {
      await sdk?.shutdown();
    },
  };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The active trace context as headers (`traceparent`, `tracestate`) to carry on a record. With
 * no span in the context (tracing off, or not in a traced send) one shared empty object: the
 * producer calls this on every send.
 */
export function traceHeaders(ctx: Context = context.active()): Readonly<Record<string, string>> {
  if (trace.getSpanContext(ctx) === undefined) return NO_HEADERS;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The trace context a record's headers carry, to parent the spans that process it. */
export function contextFromHeaders(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(context.active(), headers);
}

/**
 * The OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-specific variable)
 * is set, as the OpenTelemetry specification says; undefined otherwise (tracing off).
 */
export function otlpExporterFromEnv(env: Readonly<Record<string, string | undefined>>): SpanExporter | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  return new OTLPTraceExporter();
}
