/**
 * The web app's spans: `inSpan` around a step worth seeing in a trace (the session read, a refresh, an IdP call, the
 * call to the API), and the W3C `traceparent` in and out. Edge-safe.
 *
 * With tracing off (the default) there is no tracer and each function is one check: `inSpan` calls its step and
 * nothing else. Span names are fixed words; attributes come from the callers' fixed vocabularies (see
 * `signals.ts`), never a token, cookie, code, user or URL.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from "@opentelemetry/api";

// One tracer for every copy of this module that Next.js bundles (the instrumentation hook's, each route's).
const TRACER = Symbol.for("tessera.telemetry.tracer");
const bound = globalThis as { [TRACER]?: Tracer };

export function bindTracer(tracer: Tracer): void {
  bound[TRACER] = tracer;
}

export function tracingOn(): boolean {
  return bound[TRACER] !== undefined;
}

/** Forgets the tracer (the SDK's shutdown, and tests). */
export function unbindTracer(): void {
  delete bound[TRACER];
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent, when it is not the active context (a `traceparent` that came with the request). */
  parent?: Context;
}

/**
 * Runs `step` as the active span `name`. An error ends the span as failed, named by its stable `code` (or class):
 * its message can quote what the IdP or the browser sent, so it is never recorded.
 */
export async function inSpan<T>(name: string, step: (span: Span | undefined) => Promise<T>, options: SpanOptions = {}): Promise<T> {
  const tracer = bound[TRACER];
  if (!tracer) return step(undefined);
  return tracer.startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, options.parent ?? context.active(), async (span) => {
    try {
      return await step(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute("error.type", errorType(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A stable name for what went wrong: the error's `code` when it is a plain word, else its class. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(code)) return code;
  return error instanceof Error && /^[A-Za-z]{1,64}$/.test(error.name) ? error.name : "unknown";
}

/**
 * Adds this trace's `traceparent` to an outgoing request's headers (the Bearer call to the API), and no
 * `tracestate`: whatever vendor state there is came from the browser, and is not ours to pass on.
 */
export function propagateTrace(headers: Headers): void {
  if (!bound[TRACER]) return;
  propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
  headers.delete("tracestate");
}

/** The context a request's `traceparent` names, for the first span of ours that request runs. */
export function incomingTrace(headers: Headers): Context | undefined {
  if (!bound[TRACER] || !headers.has("traceparent")) return undefined;
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier.get(key) ?? undefined,
    keys: (carrier) => [...carrier.keys()],
  });
}

/**
 * Hands this span's trace on to the route handler the request goes to next: `propagateTrace` writes its
 * `traceparent` over any the request came with, and leaves no `tracestate`.
 */
export function traceForNextHop(headers: Headers): void {
  if (bound[TRACER] && trace.getSpan(context.active())) propagateTrace(headers);
}

export { SpanKind };
