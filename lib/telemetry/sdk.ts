/**
 * Starts OpenTelemetry in one runtime of the web app: the Node server (`lib/server/telemetry.ts`) or the edge
 * middleware's (`instrumentation.ts`), each with its own providers and exporters, told apart by
 * `service.instance.id`. Edge-safe: the exporters' browser builds, which the edge bundle gets, send with `fetch`.
 *
 * Never started with telemetry off (the default): nothing here is even loaded then.
 */
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { setGlobalErrorHandler, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { logError } from "@/lib/log";
import { StorageContextManager, type ContextStorage } from "./context-manager";
import { exportFailureLog } from "./export-failures";
import { redactingExporter } from "./redaction";
import type { OtlpTarget, TelemetrySettings } from "./settings";
import { bindInstruments, unbindInstruments } from "./signals";
import { bindTracer, unbindTracer } from "./spans";

/** The instrumentation scope of every span and metric of ours. */
export const SCOPE = "tessera-web";

const MAX_ATTRIBUTE_LENGTH = 1024;

export interface TelemetryHandle {
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  /** Carries the active span across `await`s. */
  storage: ContextStorage;
  /** `nodejs` or `edge`, as a resource attribute. */
  runtime: string;
  /** Tests send to memory instead of a collector. */
  spanExporter?: SpanExporter;
  metricExporter?: PushMetricExporter;
}

export function startTelemetry(settings: TelemetrySettings, options: StartOptions): TelemetryHandle {
  const resource = resourceFromAttributes({
    "service.name": settings.serviceName,
    "service.instance.id": crypto.randomUUID(),
    "tessera.runtime": options.runtime,
  });
  const stops: (() => Promise<void>)[] = [];
  // A failed export is said, at most once a minute: a collector that refuses the key would refuse every batch.
  setGlobalErrorHandler(exportFailureLog((line) => logError("telemetry", line)));

  const spanExporter = options.spanExporter ?? (settings.traces && traceExporter(settings.traces));
  if (spanExporter) {
    const provider = new BasicTracerProvider({
      resource,
      sampler: sampler(settings.sampler),
      // Next.js's spans hold the path the caller chose: a long one must not make a batch the collector refuses.
      spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH },
      spanProcessors: [new BatchSpanProcessor(redactingExporter(spanExporter), { scheduledDelayMillis: settings.traces?.scheduleDelayMs })],
    });
    context.setGlobalContextManager(new StorageContextManager(options.storage));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    bindTracer(provider.getTracer(SCOPE));
    stops.push(async () => {
      unbindTracer();
      await provider.shutdown();
    });
  }

  const metricExporter = options.metricExporter ?? (settings.metrics && metricsExporter(settings.metrics));
  if (metricExporter) {
    const intervalMs = settings.metrics?.intervalMs ?? 60_000;
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter,
      exportIntervalMillis: intervalMs,
      exportTimeoutMillis: Math.min(settings.metrics?.timeoutMs ?? 30_000, intervalMs),
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    bindInstruments(provider.getMeter(SCOPE));
    stops.push(async () => {
      unbindInstruments();
      await provider.shutdown();
    });
  }

  return { shutdown: async () => void (await Promise.all(stops.map((stop) => stop()))) };
}

function exporterOptions({ url, headers, timeoutMs }: OtlpTarget) {
  return { url: url.href, headers, timeoutMillis: timeoutMs };
}

function traceExporter(target: OtlpTarget): SpanExporter {
  return target.protocol === "http/json" ? new JsonTraceExporter(exporterOptions(target)) : new ProtobufTraceExporter(exporterOptions(target));
}

function metricsExporter(target: OtlpTarget): PushMetricExporter {
  return target.protocol === "http/json" ? new JsonMetricExporter(exporterOptions(target)) : new ProtobufMetricExporter(exporterOptions(target));
}

/**
 * The configured sampler, except that a remote parent's decision does not count: the first `traceparent` comes from
 * the browser, and its flag would let anyone have their requests traced always, or never, whatever the ratio. The
 * root sampler decides instead; a ratio decides by the trace id, so the middleware, the route handler and the API
 * (which follows the web app) still agree.
 */
export function sampler({ name, ratio }: TelemetrySettings["sampler"]): Sampler {
  const parentBased = (root: Sampler) => new ParentBasedSampler({ root, remoteParentSampled: root, remoteParentNotSampled: root });
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_off":
      return parentBased(new AlwaysOffSampler());
    case "parentbased_traceidratio":
      return parentBased(new TraceIdRatioBasedSampler(ratio));
    case "parentbased_always_on":
      return parentBased(new AlwaysOnSampler());
  }
}
