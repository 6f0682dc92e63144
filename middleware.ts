/**
 * Edge middleware: the one place where sessions are refreshed. Everything behind it only reads.
 *
 * 1. `/api/*`: the anti-forgery check (403 JSON, never a redirect).
 * 2. Read the session. None: pages go straight to sign-in; data routes answer 401 themselves.
 * 3. Keep the access token fresh, and hand a refreshed session to both the browser and this request.
 * 4. Failures: a refused refresh ends the session (sign-in again, or 401 JSON); an unreachable IdP
 *    keeps the session, serving with the current token while it lasts, then 503.
 * Imports only edge-safe modules (Web APIs, jose, oauth4webapi).
 */
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { checkCsrf } from "@/lib/csrf";
import { json, jsonError, unauthenticated } from "@/lib/json-response";
import { logError, logInfo } from "@/lib/log";
import { readSession } from "@/lib/sealed-session";
import { keepSessionFresh } from "@/lib/session-refresher";
import { clearSessionCookies, continueWithSession } from "@/lib/session-response";
import { unavailablePage } from "@/lib/unavailable-page";

export async function middleware(request: NextRequest): Promise<Response> {
  const wantsJson = isDataRequest(request);

  if (request.nextUrl.pathname.startsWith("/api/")) {
    const csrf = checkCsrf(request.method, request.headers, getConfig().authUrl.origin);
    if (!csrf.ok) return jsonError(403, csrf.reason, "This request is missing its anti-forgery proof.");
  }

  const session = await readSession(request.cookies.getAll());
  if (!session) return wantsJson ? unauthenticated() : redirectToSignIn(request);

  const result = await keepSessionFresh(session);
  switch (result.kind) {
    case "fresh":
      return NextResponse.next();
    case "refreshed":
      return continueWithSession(request, result.session);
    case "degraded":
      logError("refresh", "the IdP could not renew the access token; serving with the current one", result.error);
      return result.changed ? continueWithSession(request, result.session) : NextResponse.next();
    case "ended":
      logInfo("refresh", `session ended: ${result.error.message}`);
      return clearSessionCookies(request, wantsJson ? json({ error: "session_expired", reason: result.error.code }, 401) : redirectToSignIn(request));
    case "unavailable":
      logError("refresh", "the access token expired and the IdP cannot be reached", result.error);
      return wantsJson ? jsonError(503, "idp_unavailable", "Cannot reach the sign-in service. Try again in a moment.") : unavailablePage();
  }
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

// Next.js reads this statically: literals only. Prefetches are skipped: they are not the user's request.
export const config = {
  matcher: [
    {
      source: "/dashboard/:path*",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
    { source: "/api/:path*" },
  ],
};
