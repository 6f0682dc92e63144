import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TokenError } from "../tokens/signed-token";
import { AsyncLocalStorageContextManager } from "./context-manager";
import {
  annotateCacheResult,
  annotateRefusal,
  bindTracer,
  endRequestSpan,
  startRequestSpan,
  tracing,
  unbindTracer,
  verifyTraced,
  VERIFY_TOKEN_SPAN,
} from "./tracing";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  context.disable();
  propagation.disable();
});

afterEach(() => {
  unbindTracer();
  exporter.reset();
});

describe("tracing while off", () => {
  it("makes no span, even with a tracer provider registered globally, and verifies as asked", async () => {
    trace.setGlobalTracerProvider(provider);
    try {
      expect(tracing()).toBe(false);
      expect(startRequestSpan(new Headers({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }), "GET", "/me")).toBeUndefined();
      const token = { sub: "alice" };
      expect(verifyTraced(() => token, "t")).toBe(token);
      await expect(verifyTraced(async () => token, "t")).resolves.toBe(token);
      expect(() => annotateRefusal("expired")).not.toThrow();
      expect(() => annotateCacheResult(true)).not.toThrow();
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      trace.disable();
    }
  });
});

describe("tracing", () => {
  it("starts a SERVER span named for the route, a child of the caller's traceparent", () => {
    bindTracer(provider.getTracer("test"));
    const started = startRequestSpan(new Headers({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }), "DELETE", "/notes/:id");
    expect(started).toBeDefined();
    endRequestSpan(started!.span, 204);
    const [span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: "DELETE /notes/:id", kind: SpanKind.SERVER, status: { code: SpanStatusCode.UNSET } });
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span?.attributes).toEqual({ "http.request.method": "DELETE", "http.route": "/notes/:id", "http.response.status_code": 204 });
  });

  it("starts a root span without a traceparent, named for the method alone when no route matched, and marks a 5xx as an error", () => {
    bindTracer(provider.getTracer("test"));
    const started = startRequestSpan(new Headers(), "GET", undefined);
    endRequestSpan(started!.span, 503);
    const [span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: "GET", status: { code: SpanStatusCode.ERROR } });
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes).toEqual({ "http.request.method": "GET", "http.response.status_code": 503 });
  });

  it("puts a refusal's reason on the request's span, even from inside a child span", () => {
    bindTracer(provider.getTracer("test"));
    const started = startRequestSpan(new Headers(), "GET", "/me")!;
    context.with(started.context, () => {
      const child = provider.getTracer("test").startSpan("child");
      context.with(trace.setSpan(context.active(), child), () => annotateRefusal("revoked"));
      child.end();
    });
    endRequestSpan(started.span, 401);
    const request = exporter.getFinishedSpans().find((span) => span.name === "GET /me");
    expect(request?.attributes).toMatchObject({ "tessera.outcome": "refused", "tessera.reason": "revoked" });
  });

  it("wraps a verification in a child span that carries the cache's answer, and returns a hit at once", async () => {
    bindTracer(provider.getTracer("test"));
    const started = startRequestSpan(new Headers(), "GET", "/me")!;
    const token = { sub: "alice" };
    const result = context.with(started.context, () =>
      verifyTraced((presented) => {
        expect(presented).toBe("the-token");
        annotateCacheResult(true);
        return token;
      }, "the-token"),
    );
    expect(result).toBe(token);
    const missed = await context.with(started.context, () =>
      verifyTraced(async () => {
        annotateCacheResult(false);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return token;
      }, "the-token"),
    );
    expect(missed).toBe(token);
    endRequestSpan(started.span, 200);

    const spans = exporter.getFinishedSpans();
    const verifications = spans.filter((span) => span.name === VERIFY_TOKEN_SPAN);
    expect(verifications.map((span) => span.attributes)).toEqual([{ "tessera.cache.result": "hit" }, { "tessera.cache.result": "miss" }]);
    for (const span of verifications) {
      expect(span.kind).toBe(SpanKind.INTERNAL);
      expect(span.parentSpanContext?.spanId).toBe(started.span.spanContext().spanId);
    }
  });

  it("ends a failed verification's span with the error's code as its status, and records no exception", async () => {
    bindTracer(provider.getTracer("test"));
    const secret = "eyJhbGciOiJFUzI1NiJ9.secret-payload.sig";
    await expect(
      verifyTraced(async () => {
        throw new TokenError("bad_signature", `signature of ${secret} does not verify`);
      }, secret),
    ).rejects.toThrow(TokenError);
    expect(() =>
      verifyTraced(() => {
        throw new Error(`parse failed near ${secret}`);
      }, secret),
    ).toThrow();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.status)).toEqual([
      { code: SpanStatusCode.ERROR, message: "bad_signature" },
      { code: SpanStatusCode.ERROR, message: "other" },
    ]);
    expect(spans.flatMap((span) => span.events)).toEqual([]);
    expect(JSON.stringify(spans.map((span) => [span.name, span.attributes, span.status]))).not.toContain("secret");
  });
});
