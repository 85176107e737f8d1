/**
 * Traces (OpenTelemetry), on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: one trace follows a
 * cancellation from the HTTP request that submitted it, through StartWorkflow, the workflow and
 * each activity, to the SMTP call. Spans leave the process by OTLP over HTTP (JSON), in batches.
 *
 * When the variable is unset nothing here runs: no provider is registered, the web app adds no
 * middleware, the Temporal client and worker get no interceptors, and the worker runs the bundle
 * without the workflow interceptors. The few `trace.getActiveSpan()` calls left in the code
 * (the logger, the mail sender) then meet the OpenTelemetry API's no-op and cost nothing.
 *
 * Spans carry names, ids and codes only: a route pattern (never a path, which may hold a client's
 * link), Temporal's workflow and activity ids (keyed, no personal data), an SMTP host and reply
 * code. Never a recipient, a subject or a body.
 */
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

/** The name spans of this app are recorded under (the instrumentation scope). */
export const TRACER_NAME = 'shortnotice';

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** `service.name` of this process's spans: shortnotice-web or shortnotice-worker. */
  serviceName: string;
  /** For tests: export each span as soon as it ends rather than in batches. */
  exportDelayMs?: number;
}

export interface Tracing {
  resource: Resource;
  /** Where workflow spans, made inside the sandbox and carried out by a sink, are handed over. */
  spanProcessor: SpanProcessor;
  /** Sends every finished span now (tests; a stop). */
  flush(): Promise<void>;
  /** Flushes, then unregisters the provider, so nothing is left running. */
  shutdown(): Promise<void>;
}

/** The URL spans are posted to: the OTLP/HTTP convention appends the signal's path to the base. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Registers a tracer provider for this process (AsyncLocalStorage context, W3C trace context)
 * that exports by OTLP. Call once, before the Temporal client, the worker or the app is built.
 */
export function startTracing(options: TracingOptions): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName, 'service.namespace': 'shortnotice' });
  const exporter = new OTLPTraceExporter({ url: tracesUrl(options.endpoint), timeoutMillis: 10_000 });
  // Batches keep export off the request's path; a bounded queue drops spans rather than memory
  // when the collector is away for long.
  const spanProcessor = new BatchSpanProcessor(exporter, {
    maxQueueSize: 4_096,
    maxExportBatchSize: 512,
    scheduledDelayMillis: options.exportDelayMs ?? 2_000,
  });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    resource,
    spanProcessor,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** This app's tracer (a no-op until startTracing has registered a provider). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The Temporal client's interceptors: StartWorkflow, signals and updates carry the trace on. */
export function tracingClientInterceptors(): { workflow: OpenTelemetryWorkflowClientInterceptor[] } {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}
