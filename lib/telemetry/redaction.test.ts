import { SpanKind, SpanStatusCode, type Attributes } from "@opentelemetry/api";
import { ExportResultCode, TraceState, type ExportResult } from "@opentelemetry/core";
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it, vi } from "vitest";
import { redactAttributes, redactingExporter, redactSpan, withoutQuery } from "./redaction";

/**
 * A span as Next.js's own instrumentation records one for the IdP's redirect back: the authorization code in its
 * name and attributes, an exception event quoting it, a status message.
 */
function callbackSpan(): ReadableSpan {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer("next.js");
  const linked = tracer.startSpan("linked");
  linked.end();
  const span = tracer.startSpan("GET /auth/callback/oidc?code=SECRET-CODE&state=X", {
    kind: SpanKind.SERVER,
    attributes: {
      "http.target": "/auth/callback/oidc?code=SECRET-CODE&state=X",
      "http.url": "https://app.example/auth/callback/oidc?code=SECRET-CODE#frag",
      "url.query": "code=SECRET-CODE&state=X",
      "url.fragment": "SECRET-FRAGMENT",
      "url.path": "/auth/callback/oidc",
      "http.request.header.cookie": ["__Host-tessera-session=SECRET-COOKIE"],
      "http.response.header.set-cookie": ["__Host-tessera-session=SECRET-COOKIE"],
      "next.route": "/auth/callback/[provider]",
      "http.status_code": 302,
      "next.rsc": false,
      "tessera.hops": ["/a?code=SECRET-CODE", "/b"],
    },
    links: [{ context: linked.spanContext(), attributes: { "http.target": "/dashboard?code=SECRET-CODE" } }],
  });
  span.recordException(new Error("could not use code=SECRET-CODE"));
  span.addEvent("redirect", { location: "/dashboard?code=SECRET-CODE" });
  span.setStatus({ code: SpanStatusCode.ERROR, message: "failed for code=SECRET-CODE" });
  span.end();
  return exporter.getFinishedSpans().find((finished) => finished.name !== "linked")!;
}

describe("withoutQuery", () => {
  it.each([
    ["/auth/callback/oidc?code=SECRET&state=X", "/auth/callback/oidc"],
    ["https://app.example/path?x=1#top", "https://app.example/path"],
    ["/page#fragment?not-a-query", "/page"],
    ["/path?first\nsecond line", "/path"],
    ["GET /api/notes", "GET /api/notes"],
    ["", ""],
  ])("%j is %j", (text, expected) => {
    expect(withoutQuery(text)).toBe(expected);
  });
});

describe("redactAttributes", () => {
  it("cuts the query and fragment from string values and string arrays, keeps other values, and drops query and header attributes", () => {
    const attributes: Attributes = {
      "http.target": "/auth/callback/oidc?code=SECRET&state=X",
      "url.query": "code=SECRET",
      "url.fragment": "SECRET",
      "http.request.header.authorization": ["Bearer SECRET"],
      "http.response.header.location": ["/x?code=SECRET"],
      "tessera.hops": ["/a?code=SECRET", "/b"],
      "http.response.status_code": 200,
      "next.rsc": false,
      "http.route": "/api/notes/[id]",
      "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)",
      "tessera.ports": [80, 443],
    };
    expect(redactAttributes(attributes)).toEqual({
      "http.target": "/auth/callback/oidc",
      "tessera.hops": ["/a", "/b"],
      "http.response.status_code": 200,
      "next.rsc": false,
      "http.route": "/api/notes/[id]",
      "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)",
      "tessera.ports": [80, 443],
    });
  });

  it("keeps attributes whose names merely resemble the dropped ones", () => {
    expect(redactAttributes({ "url.query_count": 2, "http.request.headers_size": 10, "url.path": "/p" })).toEqual({
      "url.query_count": 2,
      "http.request.headers_size": 10,
      "url.path": "/p",
    });
  });
});

describe("redactSpan", () => {
  it("cuts the query from the name and every attribute, and leaves no trace of the code anywhere", () => {
    const redacted = redactSpan(callbackSpan());
    expect(redacted.name).toBe("GET /auth/callback/oidc");
    expect(redacted.attributes).toEqual({
      "http.target": "/auth/callback/oidc",
      "http.url": "https://app.example/auth/callback/oidc",
      "url.path": "/auth/callback/oidc",
      "next.route": "/auth/callback/[provider]",
      "http.status_code": 302,
      "next.rsc": false,
      "tessera.hops": ["/a", "/b"],
    });
    expect(redacted.links.map((link) => link.attributes)).toEqual([{ "http.target": "/dashboard" }]);
    const everything = JSON.stringify([redacted.name, redacted.attributes, redacted.links, redacted.events, redacted.status]);
    expect(everything).not.toMatch(/SECRET/);
  });

  it("drops the events, where exceptions and their messages are, and counts them as dropped", () => {
    const span = callbackSpan();
    expect(span.events).toHaveLength(2);
    const redacted = redactSpan(span);
    expect(redacted.events).toEqual([]);
    expect(redacted.droppedEventsCount).toBe(span.droppedEventsCount + 2);
  });

  it("keeps the status code without its message", () => {
    expect(redactSpan(callbackSpan()).status).toEqual({ code: SpanStatusCode.ERROR });
  });

  it("drops the trace state a browser's tracestate may have set, and cuts a long name", () => {
    const span = callbackSpan();
    const stated: ReadableSpan = { ...span, name: `GET /${"x".repeat(1_000)}`, spanContext: () => ({ ...span.spanContext(), traceState: new TraceState("vendor=client-said") }) };
    const redacted = redactSpan(stated);
    expect(redacted.spanContext().traceState).toBeUndefined();
    expect(redacted.spanContext().traceId).toBe(span.spanContext().traceId);
    expect(redacted.name).toHaveLength(256);
  });

  it("keeps everything that identifies and times the span", () => {
    const span = callbackSpan();
    const redacted = redactSpan(span);
    expect(redacted.spanContext()).toEqual({ ...span.spanContext(), traceState: undefined });
    expect(redacted.links[0]?.context).toEqual(span.links[0]?.context);
    expect(redacted).toMatchObject({
      kind: SpanKind.SERVER,
      parentSpanContext: span.parentSpanContext,
      startTime: span.startTime,
      endTime: span.endTime,
      duration: span.duration,
      ended: true,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedLinksCount: span.droppedLinksCount,
    });
  });
});

describe("redactingExporter", () => {
  it("hands the wrapped exporter redacted spans, and its result back", () => {
    const received: ReadableSpan[] = [];
    const inner = {
      export: (spans: ReadableSpan[], callback: (result: ExportResult) => void) => {
        received.push(...spans);
        callback({ code: ExportResultCode.FAILED, error: new Error("collector away") });
      },
      shutdown: async () => {},
    };
    const done = vi.fn<(result: ExportResult) => void>();
    redactingExporter(inner).export([callbackSpan()], done);
    expect(received.map((span) => span.name)).toEqual(["GET /auth/callback/oidc"]);
    expect(JSON.stringify(received[0]?.attributes)).not.toContain("SECRET");
    expect(done).toHaveBeenCalledWith(expect.objectContaining({ code: ExportResultCode.FAILED }));
  });

  it("shuts down and flushes the wrapped exporter, and has no flush where it has none", async () => {
    const inner = { export: vi.fn(), shutdown: vi.fn(async () => {}), forceFlush: vi.fn(async () => {}) };
    const exporter = redactingExporter(inner);
    await exporter.forceFlush?.();
    await exporter.shutdown();
    expect(inner.forceFlush).toHaveBeenCalledOnce();
    expect(inner.shutdown).toHaveBeenCalledOnce();
    expect(redactingExporter({ export: vi.fn(), shutdown: vi.fn(async () => {}) }).forceFlush).toBeUndefined();
  });
});
