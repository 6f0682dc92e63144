/**
 * The BFF's data routes (`/api/*`): what every one of them checks before it answers, and the forwarding of the
 * user's request to the API with their access token. Node runtime.
 *
 * The middleware sees a data request only once the browser's freshness hint has lapsed (see `session/fresh-hint`),
 * so what every data request must pass is checked here, in order:
 * 1. the anti-forgery proof: 403 JSON;
 * 2. a session, not on the list of ended sessions: 401 JSON, clearing a session cookie that was sent (it
 *    could not be opened, or it is a copy of one signed out); 503 JSON, the cookie kept, while the list cannot be
 *    read;
 * 3. an access token that has not expired. One that has came with a hint that outlived it (a browser clock set
 *    back, a hand-made cookie): the hint is taken away and the caller told to retry (401 `refresh_required`,
 *    which `bffFetch` does once), and the retry passes through the middleware and its refresh. Nothing here
 *    refreshes: that stays with the middleware, where concurrent requests share one refresh.
 */
import type { NextRequest } from "next/server";
import { forwardToApi } from "@/lib/api/proxy";
import { getConfig } from "@/lib/config";
import { refuseForgery } from "@/lib/http/anti-forgery";
import { jsonError, serviceUnavailable, unauthenticated } from "@/lib/http/json";
import { freshness } from "@/lib/refresh/policy";
import { CLEAR_FRESH_HINT } from "@/lib/session/fresh-hint";
import { clearSessionCookies } from "@/lib/session/response";
import type { Session } from "@/lib/session/session";
import { inSpan } from "@/lib/telemetry/spans";
import { getAdmittedSession, SessionCheckUnavailableError } from "./session-reader";

/** The session a data request may use, or the answer that refuses it. */
export async function authorizeDataRequest(
  request: NextRequest,
  readAdmitted: () => Promise<Session | null> = () => getAdmittedSession(request),
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<Session | Response> {
  const forged = refuseForgery(request, getConfig().authUrl.origin);
  if (forged) return forged;
  let session: Session | null;
  try {
    session = await readAdmitted();
  } catch (error) {
    if (error instanceof SessionCheckUnavailableError) return serviceUnavailable();
    throw error;
  }
  if (!session) return clearSessionCookies(request, unauthenticated());
  if (freshness(session, nowSeconds) === "expired") {
    return jsonError(401, "refresh_required", "Try again.", { "set-cookie": CLEAR_FRESH_HINT });
  }
  return session;
}

/**
 * The signed-in user's request, forwarded to the API's `upstreamPath` with their access token. `route`, the data
 * route's own pattern (`/api/notes/[id]`), labels the request's span (`tessera.data_route`), inside Next.js's own
 * for the request, which continues the trace the middleware handed on in `traceparent`, if it ran.
 */
export function forwardWithSession(request: NextRequest, upstreamPath: string, route: string): Promise<Response> {
  return inSpan(
    "tessera.data_route",
    async (span) => {
      const session = await inSpan("tessera.session.read", () => authorizeDataRequest(request));
      const response = session instanceof Response ? session : await forward(request, upstreamPath, route, session);
      span?.setAttribute("http.response.status_code", response.status);
      return response;
    },
    { attributes: { "http.route": route, "http.request.method": request.method } },
  );
}

function forward(request: NextRequest, upstreamPath: string, route: string, session: Session): Promise<Response> {
  const { apiUrl, apiTimeoutMs } = getConfig();
  return forwardToApi(request, upstreamPath, session.accessToken, { apiUrl, timeoutMs: apiTimeoutMs, route });
}
