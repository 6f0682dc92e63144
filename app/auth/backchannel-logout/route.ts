/**
 * OpenID Connect Back-Channel Logout 1.0: the IdP tells this app that a session has ended there.
 * The IdP calls it server to server; no cookie, no CSRF proof: the logout token is signed by the IdP.
 */
import { relayLogoutToken } from "@/lib/api/revocation";
import { handleBackchannelLogout } from "@/lib/server/sign-out/backchannel-logout";
import { getConfig } from "@/lib/config";
import { idpKeys } from "@/lib/idp/keys";
import { endedSessions } from "@/lib/server/ended-sessions";
import { createLogoutTokenVerifier, type LogoutToken } from "@/lib/idp/logout-token";

let verify: ((token: string) => Promise<LogoutToken>) | undefined;

export async function POST(request: Request): Promise<Response> {
  const { issuer, clientId, apiUrl, apiTimeoutMs, sessionMaxAge } = getConfig();
  verify ??= createLogoutTokenVerifier({ issuer, clientId, getKey: idpKeys() });
  return handleBackchannelLogout(request, {
    verify,
    sessions: endedSessions(),
    relay: (token) => relayLogoutToken(token, { apiUrl, timeoutMs: apiTimeoutMs }),
    sessionMaxAge,
  });
}
