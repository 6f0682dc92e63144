import { AsyncLocalStorage } from "node:async_hooks";
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context, type ProxyTracerProvider } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, type MeterProvider } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SamplingDecision, type BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { sampler, startTelemetry, SCOPE, type TelemetryHandle } from "./sdk";
import type { TelemetrySettings } from "./settings";
import { countSignIn, telemetryOn } from "./signals";
import { inSpan, propagateTrace, tracingOn } from "./spans";

/** Both signals on; the exporters are replaced by in-memory ones, so nothing is sent to these URLs. */
const SETTINGS: TelemetrySettings = {
  serviceName: "tessera-web-test",
  sampler: { name: "parentbased_always_on", ratio: 1 },
  traces: { url: new URL("http://127.0.0.1:9/v1/traces"), protocol: "http/protobuf", headers: {}, timeoutMs: 1_000, scheduleDelayMs: 60_000 },
  metrics: { url: new URL("http://127.0.0.1:9/v1/metrics"), protocol: "http/protobuf", headers: {}, timeoutMs: 1_000, intervalMs: 60_000 },
};

let handle: TelemetryHandle | undefined;

function start(settings: Partial<TelemetrySettings> = {}, exporters: { spans?: boolean; metrics?: boolean } = { spans: true, metrics: true }) {
  const spanExporter = exporters.spans ? new InMemorySpanExporter() : undefined;
  const metricExporter = exporters.metrics ? new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE) : undefined;
  handle = startTelemetry({ ...SETTINGS, ...settings }, { storage: new AsyncLocalStorage<Context>(), runtime: "nodejs", spanExporter, metricExporter });
  return { handle, spanExporter, metricExporter };
}

/** Exports what the global providers the SDK registered hold: the BatchSpanProcessor's queue, the metric reader's. */
async function flush(): Promise<void> {
  await ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as BasicTracerProvider).forceFlush();
  await (metrics.getMeterProvider() as MeterProvider).forceFlush();
}

/** Shuts the SDK down and forgets the globals it registered, as a fresh process would start. */
async function stop(): Promise<void> {
  await handle?.shutdown();
  handle = undefined;
  trace.disable();
  metrics.disable();
  context.disable();
  propagation.disable();
}

afterEach(stop);

describe("startTelemetry", () => {
  it("binds the instruments and the tracer, which export to the given exporters", async () => {
    const { spanExporter, metricExporter } = start();
    expect(telemetryOn()).toBe(true);
    expect(tracingOn()).toBe(true);

    countSignIn("ok");
    await inSpan("tessera.step", async () => {});
    await flush();

    expect(spanExporter!.getFinishedSpans().map((span) => span.name)).toEqual(["tessera.step"]);
    expect(spanExporter!.getFinishedSpans()[0]?.instrumentationScope.name).toBe(SCOPE);
    const scopes = metricExporter!.getMetrics().at(-1)?.scopeMetrics ?? [];
    expect(scopes.map((scope) => scope.scope.name)).toEqual([SCOPE]);
    expect(scopes[0]?.metrics.find((metric) => metric.descriptor.name === "tessera.sign_ins")?.dataPoints.map((point) => point.value)).toEqual([1]);
  });

  it("describes this process in the resource of both signals: the service, the runtime and an instance id of its own", async () => {
    const { spanExporter, metricExporter } = start();
    countSignIn("ok");
    await inSpan("tessera.step", async () => {});
    await flush();

    const spanResource = spanExporter!.getFinishedSpans()[0]!.resource.attributes;
    const metricResource = metricExporter!.getMetrics().at(-1)!.resource.attributes;
    expect(spanResource).toMatchObject({ "service.name": "tessera-web-test", "tessera.runtime": "nodejs" });
    expect(spanResource["service.instance.id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(metricResource).toMatchObject({ "service.name": "tessera-web-test", "tessera.runtime": "nodejs", "service.instance.id": spanResource["service.instance.id"] });

    const firstInstance = spanResource["service.instance.id"];
    await stop();
    const second = start({}, { spans: true });
    await inSpan("tessera.step", async () => {});
    await flush();
    expect(second.spanExporter!.getFinishedSpans()[0]!.resource.attributes["service.instance.id"]).not.toBe(firstInstance);
  });

  it("exports spans redacted: a name or attribute with the authorization code leaves without it", async () => {
    const { spanExporter } = start();
    await inSpan("GET /auth/callback/oidc?code=SECRET-CODE", async (span) => {
      span?.setAttribute("http.target", "/auth/callback/oidc?code=SECRET-CODE&state=X");
    });
    await flush();
    const [exported] = spanExporter!.getFinishedSpans();
    expect(exported?.name).toBe("GET /auth/callback/oidc");
    expect(exported?.attributes["http.target"]).toBe("/auth/callback/oidc");
  });

  it("carries the active span across awaits with the storage it was given, and propagates W3C traceparent", async () => {
    const { spanExporter } = start();
    const headers = new Headers();
    await inSpan("outer", async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await inSpan("inner", async () => propagateTrace(headers));
    });
    await flush();
    const byName = new Map(spanExporter!.getFinishedSpans().map((span) => [span.name, span]));
    const inner = byName.get("inner")!;
    expect(inner.parentSpanContext?.spanId).toBe(byName.get("outer")!.spanContext().spanId);
    expect(headers.get("traceparent")).toBe(`00-${inner.spanContext().traceId}-${inner.spanContext().spanId}-01`);
  });

  it("samples with the configured sampler: always_off records no span, and the step still runs", async () => {
    const { spanExporter } = start({ sampler: { name: "always_off", ratio: 1 } });
    expect(await inSpan("tessera.step", async () => "ran")).toBe("ran");
    await flush();
    expect(spanExporter!.getFinishedSpans()).toEqual([]);
  });

  it("starts only what has an exporter: metrics without traces bind no tracer", () => {
    start({ traces: undefined }, { metrics: true });
    expect(telemetryOn()).toBe(true);
    expect(tracingOn()).toBe(false);
  });

  it("unbinds on shutdown: counting and tracing are no-ops again, and what was pending is exported first", async () => {
    const { spanExporter, metricExporter } = start();
    countSignIn("ok");
    let exportedAtShutdown: string[] = [];
    const shutdown = spanExporter!.shutdown.bind(spanExporter);
    spanExporter!.shutdown = () => {
      exportedAtShutdown = spanExporter!.getFinishedSpans().map((span) => span.name);
      return shutdown();
    };
    await inSpan("pending", async () => {});
    await handle!.shutdown();
    handle = undefined;

    expect(exportedAtShutdown).toEqual(["pending"]);
    expect(metricExporter!.getMetrics()).not.toEqual([]);
    expect(telemetryOn()).toBe(false);
    expect(tracingOn()).toBe(false);
    const exportsBefore = metricExporter!.getMetrics().length;
    countSignIn("ok");
    let given: unknown = "not called";
    await inSpan("after", async (span) => {
      given = span;
    });
    expect(given).toBeUndefined();
    expect(metricExporter!.getMetrics()).toHaveLength(exportsBefore);
  });
});

describe("sampler", () => {
  const TRACE_ID = "a".repeat(32);
  const parent = (traceFlags: TraceFlags, isRemote: boolean) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: "b".repeat(16), traceFlags, isRemote });
  const decide = (name: TelemetrySettings["sampler"]["name"], ratio: number, on: Context) => sampler({ name, ratio }).shouldSample(on, TRACE_ID, "span", SpanKind.SERVER, {}, []).decision;

  it("lets the root sampler decide under a remote parent, whatever the flag the browser sent", () => {
    expect(decide("parentbased_traceidratio", 0, parent(TraceFlags.SAMPLED, true))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide("parentbased_always_on", 1, parent(TraceFlags.NONE, true))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide("parentbased_always_off", 1, parent(TraceFlags.SAMPLED, true))).toBe(SamplingDecision.NOT_RECORD);
  });

  it("follows a parent within the process, so a trace is sampled whole", () => {
    expect(decide("parentbased_always_on", 1, parent(TraceFlags.NONE, false))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide("parentbased_traceidratio", 0, parent(TraceFlags.SAMPLED, false))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});

describe("span limits", () => {
  afterEach(stop);

  it("cuts attribute values at 1024 characters: a caller's long path must not make a batch the collector refuses", async () => {
    const { spanExporter } = start();
    await inSpan("long", async (span) => void span?.setAttribute("http.target", `/${"x".repeat(5_000)}`));
    await flush();
    expect(String(spanExporter!.getFinishedSpans()[0]?.attributes["http.target"]).length).toBe(1024);
  });
});
