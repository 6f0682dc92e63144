/**
 * Telemetry for every request: a SERVER span (`telemetry/tracing.ts`) around the rest of the chain and its
 * duration in `http.server.request.duration` (`telemetry/signals.ts`), both by the matched route's pattern
 * (`/notes/:id`), never the path. `app.ts` adds it only once telemetry has started.
 */
import { context } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { recordRequestDuration } from "../telemetry/signals";
import { endRequestSpan, startRequestSpan } from "../telemetry/tracing";

// The semantic conventions' known methods; any other becomes _OTHER, so a caller cannot make up a label.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

const methodOf = (method: string) => (KNOWN_METHODS.has(method) ? method : "_OTHER");

/** The pattern of the route the request matched; `undefined` when only middleware did (a 404). */
function routeOf(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    // `app.use` registers its middleware for every method ("ALL"); the routes name theirs.
    if (route !== undefined && route.method !== "ALL") return route.path;
  }
  return undefined;
}

export const requestTelemetry: MiddlewareHandler = async (c, next) => {
  const started = performance.now();
  const method = methodOf(c.req.method);
  const route = routeOf(c);
  const traced = startRequestSpan(c.req.raw.headers, method, route);
  // What an answer that never came counts as.
  let status = 500;
  try {
    await (traced === undefined ? next() : context.with(traced.context, next));
    status = c.res.status;
  } finally {
    recordRequestDuration((performance.now() - started) / 1000, method, route, status);
    if (traced !== undefined) endRequestSpan(traced.span, status);
  }
};
