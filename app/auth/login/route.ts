/**
 * Starts sign-in: straight to the IdP's login page, then back to `returnTo` (a local path only).
 */
import type { NextRequest } from "next/server";
import { signIn } from "@/lib/server/auth";
import { NO_STORE } from "@/lib/http/json";
import { logError } from "@/lib/log";
import { safeReturnTo } from "@/lib/http/return-to";

export async function GET(request: NextRequest): Promise<Response> {
  const returnTo = safeReturnTo(request.nextUrl.searchParams.get("returnTo"));
  let location: string;
  try {
    location = await signIn("oidc", { redirectTo: returnTo, redirect: false });
  } catch (error) {
    logError("auth", "could not start sign-in (is OIDC_ISSUER reachable and correct?)", error);
    location = "/auth/error?error=Configuration";
  }
  return new Response(null, { status: 303, headers: { ...NO_STORE, location } });
}
