/**
 * Starts OpenTelemetry for the API from its settings (`settings.ts`, which lists the variables): a tracer provider
 * whose spans go out in batches, a meter provider read every interval, each over its OTLP/HTTP exporter, and the
 * API's instruments (`signals.ts`) and tracer (`tracing.ts`) bound to them. Loaded by `server.ts` only when the
 * settings turn telemetry on: with it off, none of the SDK is loaded.
 *
 * What the settings give (endpoints, headers, timeouts, interval, batch delay, sampler) is passed explicitly and wins;
 * the SDK still reads its other standard variables itself where they are set (OTEL_EXPORTER_OTLP_COMPRESSION,
 * OTEL_BSP_MAX_QUEUE_SIZE and the like).
 */
import { randomUUID } from "node:crypto";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { loggingErrorHandler, setGlobalErrorHandler, W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../logger";
import { AsyncLocalStorageContextManager } from "./context-manager";
import { metricExporterFor, spanExporterFor } from "./exporters";
import { samplerFor } from "./sampler";
import type { ApiTelemetrySettings, OtlpExportSettings } from "./settings";
import { bindInstruments, unbindInstruments } from "./signals";
import { bindTracer, unbindTracer } from "./tracing";

/** The instrumentation scope of everything the API records. */
export const INSTRUMENTATION_SCOPE = "tessera-api";

export interface StartTelemetryOptions {
  log: Logger;
  /** Instead of the OTLP exporter the settings describe (tests). */
  spanExporter?: SpanExporter;
  /** Instead of the OTLP exporter the settings describe (tests). */
  metricExporter?: PushMetricExporter;
  /** The clock that spaces the lines about failed exports (tests). */
  now?: () => number;
}

/** A collector that is down, or refuses the key, fails every batch: at most one line about it a minute. */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000;

export interface Telemetry {
  /** Exports everything recorded so far; rejects when an export fails. */
  forceFlush(): Promise<void>;
  /** Stops recording, exports what is left and lets go of the global providers. Never rejects. */
  shutdown(): Promise<void>;
}

/** Where a signal goes, for the log: the endpoint's origin and path, never its credentials, query or headers. */
const describeExport = ({ url, protocol }: OtlpExportSettings) => ({ endpoint: `${url.origin}${url.pathname}`, protocol });

/**
 * A failed export, for the log: the error's name and its code (an HTTP status, `ECONNREFUSED`), never its message,
 * which may quote the collector's answer.
 */
function describeFailure(error: unknown) {
  const { name, code } = (typeof error === "object" && error !== null ? error : {}) as { name?: unknown; code?: unknown };
  return {
    error: typeof name === "string" ? name : typeof error,
    ...(typeof code === "number" || (typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code)) ? { code } : {}),
  };
}

export function startTelemetry(settings: ApiTelemetrySettings, options: StartTelemetryOptions): Telemetry {
  const { log, now = Date.now } = options;
  // The SDK reports failed exports here (by default to its diagnostic logger, which is silent): the first at once,
  // then one line a minute at most, with how many failed since.
  let loggedAt = -Infinity;
  let unsaid = 0;
  setGlobalErrorHandler((error) => {
    if (now() - loggedAt < EXPORT_FAILURE_LOG_INTERVAL_MS) return void (unsaid += 1);
    log.warn("telemetry_export_failed", { ...describeFailure(error), ...(unsaid > 0 ? { failedSinceLastLine: unsaid } : {}) });
    loggedAt = now();
    unsaid = 0;
  });
  const resource = resourceFromAttributes({ "service.name": settings.serviceName, "service.instance.id": randomUUID() });

  let tracerProvider: BasicTracerProvider | undefined;
  if (settings.traces !== undefined) {
    const exporter = options.spanExporter ?? spanExporterFor(settings.traces);
    tracerProvider = new BasicTracerProvider({
      resource,
      sampler: samplerFor(settings.sampler),
      // A long path a caller chose must not make a batch the collector refuses.
      spanLimits: { attributeValueLengthLimit: 1024 },
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: settings.traces.scheduleDelayMs })],
    });
    // sdk-trace-base 2.x has no register(): the context manager, the propagator and the provider, one by one.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(tracerProvider);
    bindTracer(tracerProvider.getTracer(INSTRUMENTATION_SCOPE));
  }

  let meterProvider: MeterProvider | undefined;
  if (settings.metrics !== undefined) {
    const { intervalMs, timeoutMs } = settings.metrics;
    const reader = new PeriodicExportingMetricReader({
      exporter: options.metricExporter ?? metricExporterFor(settings.metrics),
      exportIntervalMillis: intervalMs,
      // The reader refuses a timeout longer than its interval.
      exportTimeoutMillis: Math.min(timeoutMs, intervalMs),
    });
    meterProvider = new MeterProvider({ resource, readers: [reader] });
    metrics.setGlobalMeterProvider(meterProvider);
    bindInstruments(meterProvider.getMeter(INSTRUMENTATION_SCOPE));
  }

  log.info("telemetry_started", {
    serviceName: settings.serviceName,
    signals: [...(tracerProvider ? ["traces"] : []), ...(meterProvider ? ["metrics"] : [])],
    ...(settings.traces === undefined ? {} : { traces: { ...describeExport(settings.traces), sampler: settings.sampler } }),
    ...(settings.metrics === undefined ? {} : { metrics: { ...describeExport(settings.metrics), intervalMs: settings.metrics.intervalMs } }),
  });

  let stopped: Promise<void> | undefined;
  return {
    async forceFlush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    shutdown() {
      stopped ??= (async () => {
        // Nothing is recorded from here on; what was is exported.
        unbindTracer();
        unbindInstruments();
        const results = await Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
        for (const result of results) {
          if (result.status === "rejected") log.warn("telemetry_export_failed", describeFailure(result.reason));
        }
        setGlobalErrorHandler(loggingErrorHandler());
        if (tracerProvider !== undefined) {
          trace.disable();
          propagation.disable();
          context.disable();
        }
        if (meterProvider !== undefined) metrics.disable();
      })();
      return stopped;
    },
  };
}
