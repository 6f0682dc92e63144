/**
 * Exchanges the session's refresh token for new tokens at the IdP's token endpoint (RFC 6749 §6).
 *
 * Request and response processing go through oauth4webapi; this module only maps the outcome onto the
 * session, and every failure onto a `RefreshError` whose `code` tells the caller what to do. Only a refresh that
 * never got an answer, or got a "not now" (5xx, 408, 429), is transient; any other refusal means the grant is gone,
 * whether or not the IdP explained itself in an RFC 6749 JSON body:
 * - `idp_unreachable`: network error, timeout, 5xx, 408 or 429: transient, try again on a later request;
 * - `invalid_grant`: the IdP refused the refresh token (revoked, expired, reused): the session is over;
 * - `refresh_refused`: any other refusal (`invalid_client`, a 400 with an empty body, ...): the session is over;
 * - `invalid_response`: a success answer that cannot be used (no access token, a bad ID token): the session is over;
 * - `subject_mismatch`: the refreshed ID token names another user: the session is over.
 * Every message says what the token endpoint answered (`describeAnswer`), for the one log line. Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { CodedError } from "@/lib/errors";
import { withRefreshedTokens, type Session } from "@/lib/session/session";
import { clientAuthentication, type ClientOptions } from "./client-auth";
import { describeAnswer, errorStatus, idpRequestOptions, isNetworkError, isTransientStatus } from "./http";

export type RefreshErrorCode =
  | "idp_unreachable"
  | "invalid_grant"
  | "refresh_refused"
  | "invalid_response"
  | "subject_mismatch"
  // Set by refresh coordination across instances (`lib/refresh/coordination-link.ts`), never by the IdP's answer:
  /** Redis, or this instance's coordination route, did not answer in time: transient, the session is kept. */
  | "coordination_unavailable"
  /** Another instance already rotated this refresh token, and its successor is no longer known: the session is over. */
  | "refresh_token_spent"
  /** The session was signed out, on any instance, while it was being refreshed: the session is over. */
  | "session_ended";

export const REFRESH_ERROR_CODES: readonly RefreshErrorCode[] = [
  "idp_unreachable",
  "invalid_grant",
  "refresh_refused",
  "invalid_response",
  "subject_mismatch",
  "coordination_unavailable",
  "refresh_token_spent",
  "session_ended",
];

export class RefreshError extends CodedError<RefreshErrorCode> {
  override readonly name = "RefreshError";
}

export interface RefreshOptions extends ClientOptions {
  refreshSkew?: number;
  now?: () => number;
}

function classify(error: unknown): RefreshError {
  if (error instanceof RefreshError) return error;
  if (isNetworkError(error)) return new RefreshError("idp_unreachable", "The IdP's token endpoint could not be reached", { cause: error });
  const status = errorStatus(error);
  if (status === undefined || status < 400) return new RefreshError("invalid_response", "The IdP's refresh answer was not usable", { cause: error });
  const answered = `the token endpoint answered ${describeAnswer(error)}`;
  if (isTransientStatus(status)) return new RefreshError("idp_unreachable", `The IdP could not refresh now: ${answered}`, { cause: error });
  if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
    return new RefreshError("invalid_grant", `The IdP refused the refresh token: ${answered}`, { cause: error });
  }
  return new RefreshError("refresh_refused", `The IdP refused the refresh: ${answered}`, { cause: error });
}

export async function refreshSession(session: Session, options: RefreshOptions): Promise<Session> {
  const { clientId, refreshSkew, now = Date.now } = options;
  if (!session.refreshToken) throw new RefreshError("invalid_grant", "The session has no refresh token");
  let as: oauth.AuthorizationServer;
  try {
    as = await options.metadata();
  } catch (error) {
    throw new RefreshError("idp_unreachable", "The IdP's discovery document could not be fetched", { cause: error });
  }
  try {
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuthentication(options), session.refreshToken, idpRequestOptions(options, "token"));
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
