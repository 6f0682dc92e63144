import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { describe, expect, it, vi } from "vitest";
import { useTelemetry } from "@/lib/testing/telemetry";
import { errorType, incomingTrace, inSpan, propagateTrace, traceForNextHop, tracingOn } from "./spans";

/** A traceparent as a browser or a proxy in front of the app could send it: sampled. */
const CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;

/** A turn of the event loop between two steps, as a fetch puts there. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const idsOf = (span: { spanContext(): { traceId: string; spanId: string } }) => span.spanContext();

describe("spans with tracing off (no tracer bound)", () => {
  it("runs the step with no span and hands back its result or its error", async () => {
    expect(tracingOn()).toBe(false);
    const step = vi.fn(async () => "value");
    expect(await inSpan("tessera.step", step)).toBe("value");
    expect(step).toHaveBeenCalledWith(undefined);
    const failure = new Error("boom");
    await expect(inSpan("tessera.step", async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it("adds no traceparent to an outgoing request", () => {
    const headers = new Headers({ accept: "application/json" });
    propagateTrace(headers);
    expect([...headers.keys()]).toEqual(["accept"]);
  });

  it("reads no incoming traceparent, and leaves a client's traceparent where it is", () => {
    const headers = new Headers({ traceparent: CLIENT_TRACEPARENT });
    expect(incomingTrace(headers)).toBeUndefined();
    traceForNextHop(headers);
    expect(headers.get("traceparent")).toBe(CLIENT_TRACEPARENT);
  });
});

describe("spans with tracing on", () => {
  const telemetry = useTelemetry({ metrics: false });

  it("records the step as a span with its kind and attributes, and passes the span in", async () => {
    expect(tracingOn()).toBe(true);
    let given: unknown;
    await inSpan(
      "tessera.step",
      async (span) => {
        given = span;
        span?.setAttribute("tessera.outcome", "done");
      },
      { kind: SpanKind.CLIENT, attributes: { "tessera.idp.endpoint": "token" } },
    );
    const span = telemetry.span("tessera.step");
    expect(given).toBeDefined();
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({ "tessera.idp.endpoint": "token", "tessera.outcome": "done" });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.ended).toBe(true);
  });

  it("is an internal span by default", async () => {
    await inSpan("tessera.step", async () => {});
    expect(telemetry.span("tessera.step").kind).toBe(SpanKind.INTERNAL);
  });

  it("parents a span started inside another to it, across awaits, and keeps concurrent steps apart", async () => {
    const request = (name: string) =>
      inSpan(`outer ${name}`, async () => {
        await nextTurn();
        await inSpan(`inner ${name}`, async () => {
          await nextTurn();
          await inSpan(`innermost ${name}`, async () => {});
        });
      });
    await Promise.all([request("a"), request("b")]);

    for (const name of ["a", "b"]) {
      const outer = telemetry.span(`outer ${name}`);
      const inner = telemetry.span(`inner ${name}`);
      const innermost = telemetry.span(`innermost ${name}`);
      expect(outer.parentSpanContext).toBeUndefined();
      expect(inner.parentSpanContext?.spanId).toBe(idsOf(outer).spanId);
      expect(innermost.parentSpanContext?.spanId).toBe(idsOf(inner).spanId);
      expect(new Set([idsOf(outer).traceId, idsOf(inner).traceId, idsOf(innermost).traceId]).size).toBe(1);
    }
    expect(idsOf(telemetry.span("outer a")).traceId).not.toBe(idsOf(telemetry.span("outer b")).traceId);
  });

  it("starts a new trace for a step after another has ended", async () => {
    await inSpan("first", async () => {});
    await inSpan("second", async () => {});
    expect(telemetry.span("second").parentSpanContext).toBeUndefined();
    expect(idsOf(telemetry.span("second")).traceId).not.toBe(idsOf(telemetry.span("first")).traceId);
  });

  it("ends a failed step's span as an error named by the error's stable code, never by its message, and rethrows it", async () => {
    const failure = Object.assign(new Error("the IdP answered code=SECRET-CODE"), { code: "invalid_grant" });
    await expect(
      inSpan("tessera.refresh", async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const span = telemetry.span("tessera.refresh");
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.attributes["error.type"]).toBe("invalid_grant");
    expect(span.events).toEqual([]);
    expect(JSON.stringify([span.name, span.attributes, span.status, span.events])).not.toContain("SECRET-CODE");
    expect(span.ended).toBe(true);
  });

  it("parents a propagated traceparent to the active span", async () => {
    const headers = new Headers();
    await inSpan("GET /api/notes", async () => propagateTrace(headers));
    const { traceId, spanId } = idsOf(telemetry.span("GET /api/notes"));
    expect(headers.get("traceparent")).toBe(`00-${traceId}-${spanId}-01`);
  });

  it("continues the trace of an incoming traceparent, as a child of the span it names", async () => {
    const parent = incomingTrace(new Headers({ traceparent: CLIENT_TRACEPARENT }));
    expect(parent).toBeDefined();
    await inSpan("tessera.middleware", async () => {}, { kind: SpanKind.SERVER, parent });
    const span = telemetry.span("tessera.middleware");
    expect(idsOf(span).traceId).toBe(CLIENT_TRACE);
    expect(span.parentSpanContext).toMatchObject({ traceId: CLIENT_TRACE, spanId: CLIENT_SPAN, isRemote: true });
  });

  it("passes on no tracestate, even inside a trace the browser started with one", async () => {
    const parent = incomingTrace(new Headers({ traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=client-said" }));
    const headers = new Headers();
    await inSpan("tessera.middleware", async () => inSpan("GET /api/notes", async () => propagateTrace(headers)), { parent });
    expect(headers.get("traceparent")).toContain(CLIENT_TRACE);
    expect(headers.has("tracestate")).toBe(false);
  });

  it("starts a trace of its own when the request brought no traceparent", async () => {
    expect(incomingTrace(new Headers())).toBeUndefined();
    await inSpan("tessera.middleware", async () => {}, { parent: incomingTrace(new Headers()) });
    expect(telemetry.span("tessera.middleware").parentSpanContext).toBeUndefined();
  });

  it("hands the next hop this span's trace in place of the one the client sent, and drops the client's tracestate", async () => {
    const headers = new Headers({ traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=client-said", cookie: "kept=1" });
    await inSpan("tessera.middleware", async () => traceForNextHop(headers));
    const { traceId, spanId } = idsOf(telemetry.span("tessera.middleware"));
    expect(headers.get("traceparent")).toBe(`00-${traceId}-${spanId}-01`);
    expect(headers.has("tracestate")).toBe(false);
    expect(headers.get("cookie")).toBe("kept=1");
  });

  it("is shared by every copy of the module, as Next.js bundles one into the instrumentation hook and each route", async () => {
    vi.resetModules();
    const copy = await import("./spans");
    expect(copy.inSpan).not.toBe(inSpan);
    expect(copy.tracingOn()).toBe(true);
    await copy.inSpan("in a route's copy", async () => {});
    expect(telemetry.span("in a route's copy").ended).toBe(true);
  });

  it("hands the next hop nothing of its own outside any span", () => {
    const headers = new Headers({ traceparent: CLIENT_TRACEPARENT });
    traceForNextHop(headers);
    expect(headers.get("traceparent")).toBe(CLIENT_TRACEPARENT);
  });
});

describe("errorType", () => {
  it("is the error's code when it is a plain lower-case word", () => {
    expect(errorType(Object.assign(new Error("x"), { code: "idp_unreachable" }))).toBe("idp_unreachable");
    expect(errorType({ code: "invalid_grant" })).toBe("invalid_grant");
  });

  it("is the error's class when the code is anything else", () => {
    expect(errorType(Object.assign(new Error("x"), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" }))).toBe("Error");
    expect(errorType(Object.assign(new TypeError("x"), { code: "a code with spaces" }))).toBe("TypeError");
    expect(errorType(Object.assign(new Error("x"), { code: 42 }))).toBe("Error");
    expect(errorType(new DOMException("timed out", "TimeoutError"))).toBe("TimeoutError");
  });

  it("is unknown for a class name that is not a plain word, and for anything that is not an error", () => {
    expect(errorType(Object.assign(new Error("x"), { name: "Error: with code=SECRET" }))).toBe("unknown");
    expect(errorType("a thrown string")).toBe("unknown");
    expect(errorType(null)).toBe("unknown");
    expect(errorType(undefined)).toBe("unknown");
  });
});
