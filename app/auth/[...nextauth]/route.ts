/**
 * Auth.js's endpoints, narrowed to the one the browser needs: the OIDC redirect back from the IdP.
 * Sign-in starts at /auth/login and sign-out at /auth/logout; Auth.js's own pages, session and CSRF
 * endpoints are not exposed, so there is no second, weaker way in or out.
 */
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";
import { jsonError } from "@/lib/json-response";

const CALLBACK_PATH = "/auth/callback/oidc";

export function GET(request: NextRequest): Promise<Response> | Response {
  if (request.nextUrl.pathname !== CALLBACK_PATH) return jsonError(404, "not_found", "Not found.");
  return handlers.GET(request);
}
