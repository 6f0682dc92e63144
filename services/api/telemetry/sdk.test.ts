import { context, metrics, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { ExportResultCode, globalErrorHandler, type ExportResult } from "@opentelemetry/core";
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createJsonLogger } from "../logger";
import { startTestTelemetry, TEST_TELEMETRY_SETTINGS, type TestTelemetry } from "../testing/test-telemetry";
import { EXPORT_FAILURE_LOG_INTERVAL_MS, INSTRUMENTATION_SCOPE, startTelemetry, type Telemetry } from "./sdk";
import { countTokenAccepted, measuring } from "./signals";
import { tracing } from "./tracing";

/** Exporters that keep what they are given, through shutdown, or fail every export. */
function keepingExporters(result: ExportResult = { code: ExportResultCode.SUCCESS }) {
  const spans: ReadableSpan[] = [];
  const exports: ResourceMetrics[] = [];
  const spanExporter: SpanExporter = {
    export: (batch, done) => {
      spans.push(...batch);
      done(result);
    },
    shutdown: async () => {},
  };
  const metricExporter: PushMetricExporter = {
    export: (batch, done) => {
      exports.push(batch);
      done(result);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  return { spans, exports, spanExporter, metricExporter };
}

let running: TestTelemetry | undefined;
let started: Telemetry | undefined;
afterEach(async () => {
  await running?.stop();
  await started?.shutdown();
  running = started = undefined;
});

describe("startTelemetry", () => {
  it("binds the API's tracer and instruments, and exports spans and metrics under the service's resource", async () => {
    running = startTestTelemetry();
    expect(tracing()).toBe(true);
    expect(measuring()).toBe(true);

    trace.getTracer("test").startSpan("through the global provider").end();
    countTokenAccepted();

    const [span] = await running.spans();
    expect(span?.resource.attributes).toMatchObject({ "service.name": "tessera-api-test" });
    expect(span?.resource.attributes["service.instance.id"]).toMatch(/^[0-9a-f-]{36}$/);
    const latest = running.metricExporter.getMetrics().at(-1);
    expect(latest?.resource.attributes).toMatchObject({ "service.name": "tessera-api-test" });
    expect(latest?.scopeMetrics[0]?.scope.name).toBe(INSTRUMENTATION_SCOPE);
    expect(await running.total("tessera.api.token.verifications")).toBe(1);
  });

  it("registers the W3C trace-context propagator and a context manager that follows awaits", async () => {
    running = startTestTelemetry();
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const extracted = propagation.extract(ROOT_CONTEXT, { traceparent });
    expect(trace.getSpanContext(extracted)?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const seen = await context.with(extracted, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return trace.getSpanContext(context.active())?.spanId;
    });
    expect(seen).toBe("00f067aa0ba902b7");
  });

  it("starts only the signals the settings name", async () => {
    running = startTestTelemetry({ traces: undefined });
    expect([tracing(), measuring()]).toEqual([false, true]);
    await running.stop();
    running = startTestTelemetry({ metrics: undefined });
    expect([tracing(), measuring()]).toEqual([true, false]);
  });

  it("logs what it sends where, and never the headers or the endpoint's credentials or query", () => {
    running = startTestTelemetry({
      traces: { ...TEST_TELEMETRY_SETTINGS.traces!, url: new URL("https://user:hunter2@collector.example.com/otlp/v1/traces?key=hunter2"), headers: { "api-key": "hunter2" } },
      metrics: { ...TEST_TELEMETRY_SETTINGS.metrics!, protocol: "http/json", headers: { authorization: "Bearer hunter2" } },
    });
    expect(running.lines).toHaveLength(1);
    const line = running.lines[0]!;
    expect(line).not.toContain("hunter2");
    expect(JSON.parse(line)).toMatchObject({
      event: "telemetry_started",
      serviceName: "tessera-api-test",
      signals: ["traces", "metrics"],
      traces: { endpoint: "https://collector.example.com/otlp/v1/traces", protocol: "http/protobuf" },
      metrics: { endpoint: "http://127.0.0.1:9/v1/metrics", protocol: "http/json" },
    });
  });

  it("takes a metric timeout longer than the interval, bounding each export by the interval", () => {
    expect(() => {
      running = startTestTelemetry({ metrics: { ...TEST_TELEMETRY_SETTINGS.metrics!, timeoutMs: 10_000, intervalMs: 1_000 } });
    }).not.toThrow();
  });

  it("exports what is left at shutdown, stops recording, and lets go of the globals so it can start again", async () => {
    const kept = keepingExporters();
    const lines: string[] = [];
    started = startTelemetry(TEST_TELEMETRY_SETTINGS, { log: createJsonLogger((line) => lines.push(line)), ...kept });
    trace.getTracer("test").startSpan("before shutdown").end();
    countTokenAccepted();
    await started.shutdown();

    expect(kept.spans.map((span) => span.name)).toEqual(["before shutdown"]);
    expect(kept.exports.flatMap((batch) => batch.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.descriptor.name)))).toContain(
      "tessera.api.token.verifications",
    );
    expect([tracing(), measuring()]).toEqual([false, false]);
    // The global API is back to its no-op defaults.
    expect(trace.getTracer("test").startSpan("after").isRecording()).toBe(false);
    expect(propagation.extract(ROOT_CONTEXT, { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" })).toBe(ROOT_CONTEXT);
    expect(metrics.getMeterProvider()).not.toBeUndefined();
    await expect(started.shutdown()).resolves.toBeUndefined();

    running = startTestTelemetry();
    trace.getTracer("test").startSpan("after a restart").end();
    expect((await running.spans()).map((span) => span.name)).toEqual(["after a restart"]);
    expect(lines.filter((line) => line.includes("telemetry_export_failed"))).toEqual([]);
  });

  it("logs a failed export by the error's name and code only, at most once a minute, and never rejects at shutdown", async () => {
    const refusal = Object.assign(new Error("collector said: bad api-key hunter2"), { name: "OTLPExporterError", code: 401 });
    const kept = keepingExporters({ code: ExportResultCode.FAILED, error: refusal });
    const lines: string[] = [];
    const clock = { ms: 0 };
    started = startTelemetry(TEST_TELEMETRY_SETTINGS, { log: createJsonLogger((line) => lines.push(line)), ...kept, now: () => clock.ms });
    const failures = () => lines.filter((line) => line.includes("telemetry_export_failed")).map((line) => JSON.parse(line) as Record<string, unknown>);
    // What the SDK's processors do with a failed batch; three in a row, as a collector refusing the key would have it.
    for (let batch = 0; batch < 3; batch += 1) globalErrorHandler(refusal);
    expect(failures()).toEqual([expect.objectContaining({ level: "warn", error: "OTLPExporterError", code: 401 })]);
    clock.ms = EXPORT_FAILURE_LOG_INTERVAL_MS;
    globalErrorHandler(refusal);
    expect(failures()[1]).toMatchObject({ level: "warn", error: "OTLPExporterError", failedSinceLastLine: 2 });
    trace.getTracer("test").startSpan("refused").end();
    countTokenAccepted();
    await expect(started.shutdown()).resolves.toBeUndefined();
    expect(JSON.stringify(failures())).not.toContain("hunter2");
    expect([tracing(), measuring()]).toEqual([false, false]);
  });
});
