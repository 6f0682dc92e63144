/**
 * Edge middleware: security headers on every page, and the one place where sessions are refreshed.
 * Everything behind it only reads.
 *
 * 1. A fresh CSP nonce for this response (Next.js reads it from the request's CSP header).
 * 2. `/api/*`: the anti-forgery check (403 JSON, never a redirect).
 * 3. Signed-in area and data routes: read the session. None (or unreadable, which is cleared): pages go
 *    straight to sign-in, data requests get 401 JSON.
 * 4. Keep the access token fresh, and hand a refreshed session to both the browser and this request.
 * 5. Failures: a refused refresh ends the session (sign-in again, or 401 JSON); an unreachable IdP keeps
 *    the session, serving with the current token while it lasts, then 503.
 * Imports only edge-safe modules (Web APIs, jose, oauth4webapi).
 */
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { checkCsrf } from "@/lib/csrf";
import { json, jsonError, unauthenticated } from "@/lib/json-response";
import { logError, logInfo } from "@/lib/log";
import { readSession } from "@/lib/sealed-session";
import { contentSecurityPolicy, newNonce, STRICT_TRANSPORT_SECURITY } from "@/lib/security-headers";
import { COOKIE_NAMES, joinChunks } from "@/lib/session-cookie";
import { keepSessionFresh } from "@/lib/session-refresher";
import { clearSessionCookies, continueWithSession } from "@/lib/session-response";
import { unavailablePage } from "@/lib/unavailable-page";

export async function middleware(request: NextRequest): Promise<Response> {
  const { authUrl, issuer, production } = getConfig();
  const https = authUrl.protocol === "https:";
  const nonce = newNonce();
  const csp = contentSecurityPolicy({ nonce, idpOrigin: new URL(issuer).origin, development: !production, https });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);

  const response = await gate(request, headers, nonce);
  response.headers.set("content-security-policy", csp);
  if (https) response.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return response;
}

async function gate(request: NextRequest, headers: Headers, nonce: string): Promise<Response> {
  const { pathname } = request.nextUrl;
  const wantsJson = isDataRequest(request);

  if (pathname.startsWith("/api/")) {
    const csrf = checkCsrf(request.method, request.headers, getConfig().authUrl.origin);
    if (!csrf.ok) return jsonError(403, csrf.reason, "This request is missing its anti-forgery proof.");
  }
  if (!isGuarded(pathname)) return NextResponse.next({ request: { headers } });

  const session = await readSession(request.cookies.getAll());
  if (!session) {
    const answer = wantsJson ? unauthenticated() : redirectToSignIn(request);
    // A cookie that is there but cannot be opened (tampered, or sealed with a retired secret) is dropped.
    return joinChunks(COOKIE_NAMES.session, request.cookies.getAll()) ? clearSessionCookies(request, answer) : answer;
  }

  const result = await keepSessionFresh(session);
  switch (result.kind) {
    case "fresh":
      return NextResponse.next({ request: { headers } });
    case "refreshed":
      return continueWithSession(request, headers, result.session);
    case "degraded":
      logError("refresh", "the IdP could not renew the access token; serving with the current one", result.error);
      return result.changed ? continueWithSession(request, headers, result.session) : NextResponse.next({ request: { headers } });
    case "ended":
      logInfo("refresh", `session ended: ${result.error.message}`);
      return clearSessionCookies(request, wantsJson ? json({ error: "session_expired", reason: result.error.code }, 401) : redirectToSignIn(request));
    case "unavailable":
      logError("refresh", "the access token expired and the IdP cannot be reached", result.error);
      return wantsJson ? jsonError(503, "idp_unavailable", "Cannot reach the sign-in service. Try again in a moment.") : unavailablePage(nonce);
  }
}

/** The signed-in area and the BFF's data routes: where a session is needed, and kept fresh. */
function isGuarded(pathname: string): boolean {
  return pathname === "/dashboard" || pathname.startsWith("/dashboard/") || pathname.startsWith("/api/");
}

/** Data requests (route handlers, RSC payloads, Server Actions) get JSON answers; only navigations are redirected. */
function isDataRequest(request: NextRequest): boolean {
  return request.nextUrl.pathname.startsWith("/api/") || request.headers.has("rsc") || request.headers.has("next-action");
}

function redirectToSignIn(request: NextRequest): NextResponse {
  const signIn = new URL("/auth/login", getConfig().authUrl);
  signIn.searchParams.set("returnTo", `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.redirect(signIn, { status: 303, headers: { "cache-control": "no-store" } });
}

// Next.js reads this statically: literals only. Pages: everything but static files and the benchmark's two
// middleware-free baselines (off unless BENCHMARK_ROUTES=1); page prefetches are not the user's request, and
// they neither need a nonce nor should they spend a refresh. Data routes: always, prefetch headers or not, so
// the anti-forgery check cannot be skipped by sending one.
export const config = {
  matcher: [
    {
      source: "/((?!_next/static|_next/image|favicon.ico|api/|bench/notes|bench/dashboard).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
    "/api/:path*",
  ],
};
