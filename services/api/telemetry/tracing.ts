/**
 * The API's spans: one SERVER span per request (`startRequestSpan`, started by `http/request-telemetry.ts`) and a
 * child `tessera.api.verify_token` around each bearer token's verification. While no tracer is bound (telemetry
 * off, the default) every function here returns at once, without touching the OpenTelemetry API.
 *
 * Attributes are fixed names with bounded values: the method, the route's pattern, the status, the cache result,
 * a refusal's reason. Never a token, a subject, a session, a path, a query or a header value; exceptions are not
 * recorded (their messages may quote what the caller sent), a failed span's status message is a reason code.
 */
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import { boundedReason, reasonOf, type RefusalReason } from "./reasons";

export const VERIFY_TOKEN_SPAN = "tessera.api.verify_token";

let tracer: Tracer | undefined;

/** Turns tracing on, with spans from `bound`. */
export function bindTracer(bound: Tracer): void {
  tracer = bound;
}

/** Turns tracing off again (at shutdown). */
export function unbindTracer(): void {
  tracer = undefined;
}

/** Whether spans are being made. */
export const tracing = (): boolean => tracer !== undefined;

// Where the request's span and the verification's are found, whatever span is active.
const REQUEST_SPAN = createContextKey("tessera.api request span");
const VERIFY_SPAN = createContextKey("tessera.api verify_token span");

const HEADERS: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * The request's SERVER span, named `${method} ${route}`, parented on the caller's W3C `traceparent`, and the
 * context to run the request in; `undefined` when tracing is off. `route` is the matched pattern (`/notes/:id`).
 */
export function startRequestSpan(headers: Headers, method: string, route: string | undefined): { span: Span; context: Context } | undefined {
  if (tracer === undefined) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, headers, HEADERS);
  const attributes: Attributes = { "http.request.method": method };
  if (route !== undefined) attributes["http.route"] = route;
  const span = tracer.startSpan(route === undefined ? method : `${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span).setValue(REQUEST_SPAN, span) };
}

/** Ends the request's span with its status; a 5xx is an error. */
export function endRequestSpan(span: Span, status: number): void {
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Marks the current request's span as one whose token was refused, and why. */
export function annotateRefusal(reason: RefusalReason): void {
  if (tracer === undefined) return;
  const span = context.active().getValue(REQUEST_SPAN) as Span | undefined;
  span?.setAttributes({ "tessera.outcome": "refused", "tessera.reason": boundedReason(reason) });
}

/** Marks the current verification's span with the verification cache's answer. */
export function annotateCacheResult(hit: boolean): void {
  if (tracer === undefined) return;
  const span = context.active().getValue(VERIFY_SPAN) as Span | undefined;
  span?.setAttribute("tessera.cache.result", hit ? "hit" : "miss");
}

const isPromiseLike = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as { then?: unknown } | null)?.then === "function";

function endFailed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: reasonOf(error) });
  span.end();
}

/**
 * `verify(token)`, inside a `tessera.api.verify_token` span when tracing is on. An answer given at once (a cache
 * hit) is returned at once, not as a promise.
 */
export function verifyTraced<T>(verify: (token: string) => T | Promise<T>, token: string): T | Promise<T> {
  if (tracer === undefined) return verify(token);
  const span = tracer.startSpan(VERIFY_TOKEN_SPAN);
  const active = trace.setSpan(context.active(), span).setValue(VERIFY_SPAN, span);
  let result: T | Promise<T>;
  try {
    result = context.with(active, verify, undefined, token);
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
  if (!isPromiseLike(result)) {
    span.end();
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      endFailed(span, error);
      throw error;
    },
  );
}
