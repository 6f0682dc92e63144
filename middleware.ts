/**
 * Edge middleware: security headers on every page, and the one place where sessions are refreshed.
 * Everything behind it only reads.
 *
 * It sees every page, and the data routes (`/api/*`) only when the browser's freshness hint has lapsed,
 * that is when the access token is due for refresh (see `lib/session/fresh-hint.ts`); a data request with a
 * current token goes straight to its route handler, which makes the same checks (`lib/server/data-route.ts`).
 *
 * 1. Pages: a fresh CSP nonce for this response (Next.js reads it from the request's CSP header).
 * 2. `/api/*`: the anti-forgery check (403 JSON, never a redirect).
 * 3. Signed-in area and data routes: with the freshness hint, nothing more (the page reads the session
 *    itself). Without it, read the session. None (or unreadable, which is cleared): pages go straight to
 *    sign-in, data requests get 401 JSON.
 * 4. Keep the access token fresh, and hand a refreshed session to both the browser and this request;
 *    give the browser the freshness hint whenever the token is current. A navigation another site started is
 *    served with the current token while it is still valid, without a refresh.
 * 5. Failures: a refused refresh ends the session (sign-in again, or 401 JSON), and so do refreshed tokens too
 *    large for the cookie (a page that says why); an unreachable IdP keeps the session, serving with the current
 *    token while it lasts, then 503 (with a way to try again or sign out), until `UNREFRESHABLE_LIMIT`; a refresh
 *    that cannot be coordinated across instances (Redis down) keeps the session and answers 503 at once.
 * Traced as `tessera.middleware`, whose trace the route handler continues (see `lib/telemetry/spans.ts`).
 * Imports only edge-safe modules (Web APIs, jose, oauth4webapi; never `lib/server/`), which lint enforces.
 */
import { NextResponse, type NextRequest } from "next/server";
import { isBenchmarkPassthrough } from "@/lib/benchmark";
import { getConfig } from "@/lib/config";
import { refuseForgery, startedByAnotherSite } from "@/lib/http/anti-forgery";
import { jsonError, NO_STORE, SERVICE_RETRY_AFTER_SECONDS, serviceUnavailable, sessionExpired, unauthenticated } from "@/lib/http/json";
import { contentSecurityPolicy, newNonce, STRICT_TRANSPORT_SECURITY } from "@/lib/http/security-headers";
import { unavailablePage } from "@/lib/http/unavailable-page";
import { logError, logInfo } from "@/lib/log";
import { configuredClient } from "@/lib/idp/client-auth";
import { discardRefreshToken } from "@/lib/idp/token-revocation";
import { keepSessionFresh, RETRY_AFTER_SECONDS } from "@/lib/refresh/keep-fresh";
import { freshness } from "@/lib/refresh/policy";
import { COOKIE_NAMES, joinChunks } from "@/lib/session/cookies";
import { clearSessionCookies, continueWithSession, withFreshHint } from "@/lib/session/response";
import { readSessionCookie, SESSION_TOO_LARGE_PAGE, SessionTooLargeError } from "@/lib/session/seal";
import type { Session } from "@/lib/session/session";
import { incomingTrace, inSpan, SpanKind, traceForNextHop } from "@/lib/telemetry/spans";

export async function middleware(request: NextRequest): Promise<Response> {
  if (isBenchmarkPassthrough(request.nextUrl.pathname)) return NextResponse.next();
  const { authUrl, issuer, production } = getConfig();
  const https = authUrl.protocol === "https:";
  const nonce = newNonce();
  const csp = contentSecurityPolicy({ nonce, idpOrigin: new URL(issuer).origin, development: !production, https });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);

  const wantsJson = isDataRequest(request);
  const response = await inSpan(
    "tessera.middleware",
    async (span) => {
      traceForNextHop(headers);
      const answer = await gate(request, headers, nonce, wantsJson);
      span?.setAttribute("http.response.status_code", answer.status);
      return answer;
    },
    { kind: SpanKind.SERVER, parent: incomingTrace(request.headers), attributes: { "tessera.request.kind": wantsJson ? "data" : "page" } },
  );
  // Data routes answer JSON, which next.config.ts gives a policy of its own.
  if (!isDataRoute(request.nextUrl.pathname)) response.headers.set("content-security-policy", csp);
  if (https) response.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return response;
}

async function gate(request: NextRequest, headers: Headers, nonce: string, wantsJson: boolean): Promise<Response> {
  const { pathname } = request.nextUrl;

  const forged = isDataRoute(pathname) ? refuseForgery(request, getConfig().authUrl.origin) : undefined;
  if (forged) return forged;
  if (!isGuarded(pathname)) return NextResponse.next({ request: { headers } });
  // The freshness hint says the token is current: there is nothing to refresh, and the page's own read of the
  // session (`getAdmittedSession`, which also consults the list of ended sessions) decides the rest.
  if (request.cookies.has(COOKIE_NAMES.fresh)) return NextResponse.next({ request: { headers } });

  const session = await inSpan("tessera.session.read", () => readSessionCookie(request.cookies.getAll()));
  if (!session) {
    const answer = wantsJson ? unauthenticated() : redirectToSignIn(request);
    // A cookie that is there but cannot be opened (tampered, or sealed with a retired secret) is dropped.
    return joinChunks(COOKIE_NAMES.session, request.cookies.getAll()) ? clearSessionCookies(request, answer) : answer;
  }

  // A navigation another site started does not spend the refresh token while the access token is still valid:
  // that site could close the tab during the IdP's round trip, and the rotated cookie would never reach the
  // browser. The page is served with the current token; the user's own next request refreshes.
  if (!wantsJson && startedByAnotherSite(request.headers) && freshness(session, Date.now() / 1000) === "due") {
    return NextResponse.next({ request: { headers } });
  }
  const result = await keepSessionFresh(session);
  switch (result.kind) {
    case "fresh":
      return withFreshHint(request, NextResponse.next({ request: { headers } }), session, Date.now() / 1000);
    case "refreshed":
      return handOn(request, headers, result.session, wantsJson);
    case "degraded":
      logError("refresh", "the IdP could not renew the access token; serving with the current one", result.error);
      return result.changed ? handOn(request, headers, result.session, wantsJson) : NextResponse.next({ request: { headers } });
    case "ended":
      logInfo("refresh", `session ended: ${result.error.message}`);
      return clearSessionCookies(request, wantsJson ? sessionExpired(result.error.code) : redirectToSignIn(request));
    case "unavailable":
      if (result.error.code === "coordination_unavailable") {
        logError("refresh", "a refresh is due and cannot be coordinated across instances; keeping the session", result.error);
        return wantsJson ? serviceUnavailable() : unavailablePage(nonce, SERVICE_RETRY_AFTER_SECONDS, { why: "service" });
      }
      logError("refresh", "the access token expired and the IdP cannot be reached", result.error);
      return wantsJson
        ? jsonError(503, "idp_unavailable", "Cannot reach the sign-in service. Try again in a moment.", { "retry-after": String(RETRY_AFTER_SECONDS) })
        : unavailablePage(nonce, RETRY_AFTER_SECONDS);
  }
}

/**
 * The refreshed session, to the browser and to this request. Tokens that no longer fit the cookie (an IdP that
 * added groups or roles since sign-in) end the session, with a page that says why: the refresh token they came
 * with is revoked, and never sent again, since the browser keeps no cookie that holds it.
 */
async function handOn(request: NextRequest, headers: Headers, session: Session, wantsJson: boolean): Promise<Response> {
  try {
    return await continueWithSession(request, headers, session);
  } catch (error) {
    if (!(error instanceof SessionTooLargeError)) throw error;
    logInfo("refresh", `session ended: the refreshed tokens do not fit the session cookie: ${error.message}`);
    await discardRefreshToken(session.refreshToken, configuredClient());
    const tooLarge = new URL(SESSION_TOO_LARGE_PAGE, getConfig().authUrl);
    return clearSessionCookies(request, wantsJson ? sessionExpired(error.code) : NextResponse.redirect(tooLarge, { status: 303, headers: NO_STORE }));
  }
}

/** The signed-in area and the BFF's data routes: where a session is needed, and kept fresh. */
function isGuarded(pathname: string): boolean {
  return pathname === "/dashboard" || pathname.startsWith("/dashboard/") || isDataRoute(pathname);
}

function isDataRoute(pathname: string): boolean {
  return pathname.startsWith("/api/");
}

/** Data requests (route handlers, RSC payloads, Server Actions) get JSON answers; only navigations are redirected. */
function isDataRequest(request: NextRequest): boolean {
  return isDataRoute(request.nextUrl.pathname) || request.headers.has("rsc") || request.headers.has("next-action");
}

function redirectToSignIn(request: NextRequest): NextResponse {
  const signIn = new URL("/auth/login", getConfig().authUrl);
  signIn.searchParams.set("returnTo", `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.redirect(signIn, { status: 303, headers: NO_STORE });
}

// Next.js reads this statically: literals only. Pages: everything but static files, the load balancers' health
// checks (JSON, no session), the refresh coordination route (which the middleware itself calls, on loopback), and the benchmark's two middleware-free baselines (off unless BENCHMARK_ROUTES=1);
// page prefetches are not the user's request, and they neither need a nonce nor should they spend a refresh.
// Data routes: whenever the freshness hint (`__Host-tessera-fresh`, see COOKIE_NAMES) is missing, prefetch headers
// or not; the route handlers make the anti-forgery and session checks on every request either way. The hint is looked for in the `Cookie` header as
// it came, a pair that starts with its name and has a value: a `cookie` condition would have Next.js parse and
// decode every cookie, the whole session among them, on every data request, to learn that this one is there.
export const config = {
  matcher: [
    {
      source: "/((?!_next/static|_next/image|favicon.ico|api/|internal/|healthz$|readyz$|bench/notes|bench/dashboard).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
    { source: "/api/:path*", missing: [{ type: "header", key: "cookie", value: "(?:.*;)?\\s*__Host-tessera-fresh=[^;\\s].*" }] },
  ],
};
