/**
 * Auth.js's endpoints, narrowed to the one the browser needs: the OIDC redirect back from the IdP.
 * Sign-in starts at /auth/login and sign-out at /auth/logout; Auth.js's own pages, session and CSRF
 * endpoints are not exposed, so there is no second, weaker way in or out.
 */
import { NextRequest } from "next/server";
import { handlers } from "@/lib/server/auth";
import { jsonError, NO_STORE } from "@/lib/http/json";
import { finishSignIn, runCallback } from "@/lib/server/sign-in-callback";
import { SESSION_TOO_LARGE_PAGE } from "@/lib/session/seal";

const CALLBACK_PATH = "/auth/callback/oidc";

export async function GET(request: NextRequest): Promise<Response> {
  if (request.nextUrl.pathname !== CALLBACK_PATH) return jsonError(404, "not_found", "Not found.");
  // Where the user goes next was fixed when sign-in started (Auth.js's callback-url cookie). A `callbackUrl`
  // in the query never comes from the IdP, and Auth.js would answer one it cannot parse with a 500.
  const url = request.nextUrl.clone();
  url.searchParams.delete("callbackUrl");
  const { response, tooLarge, idToken } = await runCallback(request, () => handlers.GET(new NextRequest(url, request)));
  // The callback sets the session cookie, and Auth.js marks none of its answers uncacheable. Its redirects'
  // headers are immutable, hence the copy.
  const headers = await finishSignIn(new Headers(response.headers), request.cookies.getAll(), idToken);
  if (tooLarge) headers.set("location", SESSION_TOO_LARGE_PAGE);
  for (const [name, value] of Object.entries(NO_STORE)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
