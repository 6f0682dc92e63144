/**
 * Sign-out: a same-origin POST only, so no foreign page can sign a user out.
 *
 * Check the request's origin; read the session; end it everywhere (lib/sign-out: the IdP's refresh token,
 * the API's tokens, this app's list of ended sessions); clear every session cookie chunk; send the browser
 * on to the IdP's end-session endpoint, which returns it to /signed-out.
 */
import { NextResponse, type NextRequest } from "next/server";
import { revokeAccessToken } from "@/lib/api-revocation";
import { getConfig } from "@/lib/config";
import { isSameOrigin } from "@/lib/csrf";
import { endedKey, endedSessions } from "@/lib/ended-sessions";
import { idpMetadata } from "@/lib/idp";
import { jsonError, NO_STORE } from "@/lib/json-response";
import { getSession } from "@/lib/server-session";
import { clearSessionCookies } from "@/lib/session-response";
import { signOut } from "@/lib/sign-out";
import { revokeRefreshToken } from "@/lib/token-revocation";

export async function POST(request: NextRequest): Promise<Response> {
  const { authUrl, issuer, clientId, clientSecret, idpTimeoutMs, apiUrl, apiTimeoutMs } = getConfig();
  if (!isSameOrigin(request.headers, authUrl.origin)) {
    return jsonError(403, "cross_origin", "Sign-out must come from this site.");
  }

  const session = await getSession();
  const location = await signOut(
    session,
    {
      revokeRefreshToken: (token) => revokeRefreshToken(token, { metadata: idpMetadata, issuer, clientId, clientSecret, timeoutMs: idpTimeoutMs }),
      revokeAccessToken: (token) => revokeAccessToken(token, { apiUrl, timeoutMs: apiTimeoutMs }),
      endSession: (session, until) => endedSessions().end(endedKey.session(session.id), until),
      endSessionEndpoint: async () => (await idpMetadata()).end_session_endpoint,
    },
    { clientId, signedOutUrl: new URL("/signed-out", authUrl) },
  );

  return clearSessionCookies(request, NextResponse.redirect(location, { status: 303, headers: NO_STORE }));
}
