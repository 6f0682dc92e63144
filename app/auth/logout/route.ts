/**
 * Sign-out: a same-origin POST only, so no foreign page can sign a user out.
 *
 * Steps: check the request's origin; read the session; clear every session cookie; send the browser
 * to the IdP's end-session endpoint, which returns it to /signed-out.
 */
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { isSameOrigin } from "@/lib/csrf";
import { endSessionUrl } from "@/lib/end-session";
import { idpMetadata } from "@/lib/idp";
import { jsonError, NO_STORE } from "@/lib/json-response";
import { logError } from "@/lib/log";
import { getSession } from "@/lib/server-session";
import { clearSessionCookies } from "@/lib/session-response";

export async function POST(request: NextRequest): Promise<Response> {
  const { authUrl, clientId } = getConfig();
  if (!isSameOrigin(request.headers, authUrl.origin)) {
    return jsonError(403, "cross_origin", "Sign-out must come from this site.");
  }
  const session = await getSession();
  const signedOut = new URL("/signed-out", authUrl);

  let location: URL = signedOut;
  try {
    const metadata = await idpMetadata();
    location =
      endSessionUrl({
        endSessionEndpoint: metadata.end_session_endpoint,
        clientId,
        idToken: session?.idToken,
        postLogoutRedirectUri: signedOut.href,
      }) ?? signedOut;
  } catch (error) {
    logError("logout", "could not reach the IdP to end its session", error);
    signedOut.searchParams.set("incomplete", "idp");
  }

  return clearSessionCookies(request, NextResponse.redirect(location, { status: 303, headers: NO_STORE }));
}
