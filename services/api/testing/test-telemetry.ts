import { AggregationTemporality, InMemoryMetricExporter, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { createJsonLogger } from "../logger";
import { startTelemetry } from "../telemetry/sdk";
import type { ApiTelemetrySettings } from "../telemetry/settings";

/** Settings that turn both signals on; the exporters are replaced by in-memory ones, so nothing is sent. */
export const TEST_TELEMETRY_SETTINGS: ApiTelemetrySettings = {
  serviceName: "tessera-api-test",
  sampler: { name: "parentbased_always_on", ratio: 1 },
  traces: { url: new URL("http://127.0.0.1:9/v1/traces"), protocol: "http/protobuf", headers: {}, timeoutMs: 1_000, scheduleDelayMs: 60_000 },
  metrics: { url: new URL("http://127.0.0.1:9/v1/metrics"), protocol: "http/protobuf", headers: {}, timeoutMs: 1_000, intervalMs: 60_000 },
};

export interface RecordedPoint {
  attributes: Record<string, unknown>;
  /** A counter's sum, or a histogram's count of values. */
  value: number;
}

/**
 * The real `startTelemetry`, exporting into memory: `spans()` and `points(name)` flush and read what was
 * recorded since the start (metrics are cumulative). `stop()` shuts it down, as the server does.
 */
export function startTestTelemetry(settings: Partial<ApiTelemetrySettings> = {}) {
  const spanExporter = new InMemorySpanExporter();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const lines: string[] = [];
  const telemetry = startTelemetry(
    { ...TEST_TELEMETRY_SETTINGS, ...settings },
    { log: createJsonLogger((line) => lines.push(line)), spanExporter, metricExporter },
  );

  const spans = async (): Promise<ReadableSpan[]> => {
    await telemetry.forceFlush();
    return spanExporter.getFinishedSpans();
  };

  /** Every metric exported so far, at its latest export. */
  const exported = async () => {
    await telemetry.forceFlush();
    const latest = metricExporter.getMetrics().at(-1);
    return latest?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
  };

  const points = async (name: string): Promise<RecordedPoint[]> => {
    const metric = (await exported()).find((candidate) => candidate.descriptor.name === name);
    const dataPoints = (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
    return dataPoints.map((point) => ({
      attributes: { ...point.attributes },
      value: typeof point.value === "number" ? point.value : point.value.count,
    }));
  };

  /** The sum of `name`'s points whose attributes include `attributes`. */
  const total = async (name: string, attributes: Record<string, unknown> = {}): Promise<number> =>
    (await points(name))
      .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
      .reduce((sum, point) => sum + point.value, 0);

  return { telemetry, spanExporter, metricExporter, lines, spans, exported, points, total, stop: () => telemetry.shutdown() };
}

export type TestTelemetry = ReturnType<typeof startTestTelemetry>;

/** Every string a test run's telemetry carries: span names, attributes, status messages, events, resource. */
export async function everyRecordedString(recorded: TestTelemetry): Promise<string[]> {
  const strings: string[] = [];
  const collect = (value: unknown) => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === "object" && value !== null) Object.entries(value).forEach(([key, inner]) => (strings.push(key), collect(inner)));
  };
  for (const span of await recorded.spans()) {
    collect([span.name, span.attributes, span.status.message, span.events, span.links, span.resource.attributes]);
  }
  for (const metric of await recorded.exported()) {
    collect([metric.descriptor.name, metric.dataPoints.map((point) => point.attributes)]);
  }
  return strings;
}
