/**
 * Exchanges the session's refresh token for new tokens at the IdP's token endpoint (RFC 6749 §6).
 *
 * Request and response processing go through oauth4webapi; this module only maps the outcome onto the
 * session, and every failure onto a `RefreshError` whose `code` tells the caller what to do:
 * - `invalid_grant`: the IdP refused the refresh token (revoked, expired, reused): the session is over;
 * - `subject_mismatch`: the refreshed ID token names another user: the session is over;
 * - `idp_unreachable`: network error, timeout or a 5xx: transient, try again on a later request;
 * - `refresh_failed`: any other refusal or malformed answer; logged, and handled as transient.
 * Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { CodedError } from "@/lib/errors";
import { withRefreshedTokens, type Session } from "@/lib/session/session";
import { clientAuthentication, type ClientOptions } from "./client-auth";
import { errorStatus, idpRequestOptions, isNetworkError } from "./http";

export type RefreshErrorCode = "invalid_grant" | "subject_mismatch" | "idp_unreachable" | "refresh_failed";

export class RefreshError extends CodedError<RefreshErrorCode> {
  override readonly name = "RefreshError";
}

export interface RefreshOptions extends ClientOptions {
  refreshSkew?: number;
  now?: () => number;
}

function classify(error: unknown): RefreshError {
  if (error instanceof RefreshError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    if (error.error === "invalid_grant") return new RefreshError("invalid_grant", "The IdP refused the refresh token", { cause: error });
    return new RefreshError("refresh_failed", `The IdP refused the refresh: ${error.error}`, { cause: error });
  }
  if (isNetworkError(error)) return new RefreshError("idp_unreachable", "The IdP could not be reached", { cause: error });
  const status = errorStatus(error);
  if (status !== undefined && status >= 500) {
    return new RefreshError("idp_unreachable", `The IdP's token endpoint failed (${status})`, { cause: error });
  }
  return new RefreshError("refresh_failed", "The IdP's refresh response was not usable", { cause: error });
}

export async function refreshSession(session: Session, options: RefreshOptions): Promise<Session> {
  const { clientId, clientSecret, refreshSkew, now = Date.now } = options;
  if (!session.refreshToken) throw new RefreshError("invalid_grant", "The session has no refresh token");
  try {
    const as = await options.metadata();
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuthentication(clientSecret), session.refreshToken, idpRequestOptions(options));
    const result = await oauth.processRefreshTokenResponse(as, client, response);
    // OIDC Core §12.2: a refreshed ID token must name the same user.
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (claims && claims.sub !== session.sub) throw new RefreshError("subject_mismatch", "The refreshed ID token names another subject");
    const nowSeconds = Math.floor(now() / 1000);
    const expiresAt = typeof result.expires_in === "number" ? nowSeconds + result.expires_in : undefined;
    return withRefreshedTokens(session, { ...result, expires_at: expiresAt }, nowSeconds, refreshSkew);
  } catch (error) {
    throw classify(error);
  }
}
