/**
 * Sign-out: a same-origin POST only, so no foreign page can sign a user out.
 *
 * Check the request's origin; read the session; end it everywhere (lib/server/sign-out: the IdP's refresh token,
 * the API's tokens, this app's list of ended sessions); clear every session cookie chunk; send the browser
 * on to the IdP's end-session endpoint, which returns it to /signed-out.
 */
import { NextResponse, type NextRequest } from "next/server";
import { revokeAccessToken } from "@/lib/api/revocation";
import { getConfig } from "@/lib/config";
import { isSameOrigin } from "@/lib/http/anti-forgery";
import { configuredClient } from "@/lib/idp/client-auth";
import { idpMetadata } from "@/lib/idp/discovery";
import { endedSessions } from "@/lib/server/ended-sessions";
import { endedKey } from "@/lib/server/ended-sessions/store";
import { jsonError, NO_STORE } from "@/lib/http/json";
import { clearSessionCookies } from "@/lib/session/response";
import { idTokenInHeader } from "@/lib/session/id-token-cookie";
import { readSessionCookie } from "@/lib/session/seal";
import { signOut } from "@/lib/server/sign-out/sign-out";
import { revokeRefreshToken } from "@/lib/idp/token-revocation";

export async function POST(request: NextRequest): Promise<Response> {
  const { authUrl, clientId, apiUrl, apiTimeoutMs } = getConfig();
  if (!isSameOrigin(request.headers, authUrl.origin)) {
    return jsonError(403, "cross_origin", "Sign-out must come from this site.");
  }

  // Sign-out works while the list of ended sessions cannot be read: it ends the session this cookie holds. Its ID
  // token, the IdP's hint, comes from the cookie only this route receives, if it is this session's.
  const held = await readSessionCookie(request.cookies.getAll());
  const session = held && { ...held, idToken: held.idToken ?? (await idTokenInHeader(held, request.headers.get("cookie"))) };
  const location = await signOut(
    session,
    {
      revokeRefreshToken: (token) => revokeRefreshToken(token, configuredClient()),
      revokeAccessToken: (token) => revokeAccessToken(token, { apiUrl, timeoutMs: apiTimeoutMs }),
      endSession: (session, until) => endedSessions().end(endedKey.session(session.id), until),
      endSessionEndpoint: async () => (await idpMetadata()).end_session_endpoint,
    },
    { clientId, signedOutUrl: new URL("/signed-out", authUrl) },
  );

  return clearSessionCookies(request, NextResponse.redirect(location, { status: 303, headers: NO_STORE }));
}
