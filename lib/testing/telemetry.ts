import { AsyncLocalStorage } from "node:async_hooks";
import { afterEach, beforeEach } from "vitest";
import { context, metrics, propagation, trace, type Attributes, type Context } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader, type MetricDescriptor } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { StorageContextManager } from "@/lib/telemetry/context-manager";
import { bindInstruments, unbindInstruments } from "@/lib/telemetry/signals";
import { bindTracer, unbindTracer } from "@/lib/telemetry/spans";

/** A metric's data point: a counter's sum, or how many values a histogram recorded (and their `sum`). */
export interface MetricPoint {
  attributes: Attributes;
  value: number;
  sum?: number;
}

/** A reader that collects only when a test asks. */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The web app's instruments and tracer (`lib/telemetry/signals.ts`, `spans.ts`) bound to real SDK providers that
 * keep everything in memory: the active context carried by `StorageContextManager`, W3C `traceparent` propagation.
 * `metrics: false` or `traces: false` leaves that half unbound, as a runtime whose settings have only the other.
 * `stop()` unbinds both and disables the API's globals again: call it after each test.
 */
export function observeTelemetry({ metrics: withMetrics = true, traces: withTraces = true }: { metrics?: boolean; traces?: boolean } = {}) {
  const reader = new OnDemandReader();
  const meterProvider = withMetrics ? new MeterProvider({ readers: [reader] }) : undefined;
  if (meterProvider) bindInstruments(meterProvider.getMeter("tessera-web-test"));

  const spans = new InMemorySpanExporter();
  // Every span recorded, whatever OTEL_TRACES_SAMPLER the shell running the tests has set.
  const tracerProvider = withTraces ? new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(spans)] }) : undefined;
  if (tracerProvider) {
    context.setGlobalContextManager(new StorageContextManager(new AsyncLocalStorage<Context>()));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    bindTracer(tracerProvider.getTracer("tessera-web-test"));
  }

  /** Every metric recorded so far (cumulative), by name. */
  const collect = async () => {
    if (!meterProvider) return [];
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };

  /** `name`'s data points, one per set of attributes; none when nothing was recorded. */
  const collectMetric = async (name: string): Promise<MetricPoint[]> => {
    const metric = (await collect()).find((candidate) => candidate.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((point) =>
      typeof point.value === "number"
        ? { attributes: { ...point.attributes }, value: point.value }
        : { attributes: { ...point.attributes }, value: point.value.count, sum: point.value.sum },
    );
  };

  return {
    collectMetric,

    /** `name`'s descriptor (its unit, its type), or `undefined` when nothing was recorded under it. */
    async metricDescriptor(name: string): Promise<MetricDescriptor | undefined> {
      return (await collect()).find((metric) => metric.descriptor.name === name)?.descriptor;
    },

    /** The sum of `name`'s points whose attributes include every one of `attributes`. */
    async total(name: string, attributes: Attributes = {}): Promise<number> {
      return (await collectMetric(name))
        .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
        .reduce((sum, point) => sum + point.value, 0);
    },

    /** The spans ended so far, in the order they ended. */
    finishedSpans(): ReadableSpan[] {
      return spans.getFinishedSpans();
    },

    /** The ended span called `name`; fails the test when there is none, or more than one. */
    span(name: string): ReadableSpan {
      const named = spans.getFinishedSpans().filter((span) => span.name === name);
      if (named.length !== 1) throw new Error(`expected one span named ${JSON.stringify(name)}, found ${named.length}`);
      return named[0]!;
    },

    async stop(): Promise<void> {
      unbindInstruments();
      unbindTracer();
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
      await Promise.all([meterProvider?.shutdown(), tracerProvider?.shutdown()]);
    },
  };
}

export type ObservedTelemetry = ReturnType<typeof observeTelemetry>;

/**
 * `observeTelemetry` around every test of the file (or `describe`) that calls it: a fresh one before each test,
 * stopped after it. The object returned reaches the current one.
 */
export function useTelemetry(options: Parameters<typeof observeTelemetry>[0] = {}): ObservedTelemetry {
  let current: ObservedTelemetry | undefined;
  beforeEach(() => {
    current = observeTelemetry(options);
  });
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  const now = (): ObservedTelemetry => {
    if (!current) throw new Error("useTelemetry: only inside a test");
    return current;
  };
  return {
    metricDescriptor: (name) => now().metricDescriptor(name),
    collectMetric: (name) => now().collectMetric(name),
    total: (name, attributes) => now().total(name, attributes),
    finishedSpans: () => now().finishedSpans(),
    span: (name) => now().span(name),
    stop: () => now().stop(),
  };
}
