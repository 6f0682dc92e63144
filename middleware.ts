/**
 * Edge middleware: the gate in front of the signed-in area and the BFF's data routes.
 *
 * `/api/*`: the anti-forgery check, answered with 403 JSON (never a redirect).
 * Signed-in pages: without a session, straight to sign-in and back to the page asked for.
 * Imports only edge-safe modules (Web APIs, jose, oauth4webapi).
 */
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { checkCsrf } from "@/lib/csrf";
import { jsonError } from "@/lib/json-response";
import { readSession } from "@/lib/sealed-session";

export async function middleware(request: NextRequest): Promise<Response> {
  const { authUrl } = getConfig();
  const { pathname, search } = request.nextUrl;

  if (pathname.startsWith("/api/")) {
    const csrf = checkCsrf(request.method, request.headers, authUrl.origin);
    if (!csrf.ok) return jsonError(403, csrf.reason, "This request is missing its anti-forgery proof.");
    return NextResponse.next();
  }

  const session = await readSession(request.cookies.getAll());
  if (session) return NextResponse.next();

  const signIn = new URL("/auth/login", authUrl);
  signIn.searchParams.set("returnTo", `${pathname}${search}`);
  return NextResponse.redirect(signIn, 303);
}

export const config = {
  matcher: ["/dashboard/:path*", "/api/:path*"],
};
