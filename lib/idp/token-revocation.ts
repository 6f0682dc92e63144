/**
 * Revokes the session's refresh token at the IdP's revocation endpoint (RFC 7009), so that no copy of the
 * session can mint new access tokens. oauth4webapi does the protocol; the client authenticates as at the token
 * endpoint (see `client-auth`).
 *
 * Failures become a `TokenRevocationError` whose `code` tells sign-out what to do next:
 * - `idp_unreachable`: network error, timeout, or a "not now" (5xx, 408, 429): sending the browser to the IdP would
 *   fail too;
 * - `revocation_refused`: the IdP answered, and refused; its end-session endpoint is still worth a try.
 * Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { CodedError } from "@/lib/errors";
import { logError } from "@/lib/log";
import { clientAuthentication, type ClientOptions } from "./client-auth";
import { describeAnswer, errorStatus, idpRequestOptions, isNetworkError, isTransientStatus } from "./http";

export type TokenRevocationErrorCode = "idp_unreachable" | "revocation_refused";

export class TokenRevocationError extends CodedError<TokenRevocationErrorCode> {
  override readonly name = "TokenRevocationError";
}

function classify(error: unknown): TokenRevocationError {
  if (isNetworkError(error)) return new TokenRevocationError("idp_unreachable", "The IdP's revocation endpoint could not be reached", { cause: error });
  const status = errorStatus(error);
  const answered = `the revocation endpoint answered ${describeAnswer(error)}`;
  if (status !== undefined && isTransientStatus(status)) {
    return new TokenRevocationError("idp_unreachable", `The IdP could not revoke the refresh token now: ${answered}`, { cause: error });
  }
  return new TokenRevocationError("revocation_refused", `The IdP refused to revoke the refresh token: ${answered}`, { cause: error });
}

/** `unsupported` when the IdP publishes no revocation endpoint: then only its end-session can end the grant. */
export async function revokeRefreshToken(refreshToken: string, options: ClientOptions): Promise<"revoked" | "unsupported"> {
  let as: oauth.AuthorizationServer;
  try {
    as = await options.metadata();
  } catch (error) {
    throw new TokenRevocationError("idp_unreachable", "The IdP's discovery document could not be fetched", { cause: error });
  }
  if (!as.revocation_endpoint) return "unsupported";
  try {
    const response = await oauth.revocationRequest(as, { client_id: options.clientId }, clientAuthentication(options), refreshToken, {
      ...idpRequestOptions(options, "revocation"),
      additionalParameters: { token_type_hint: "refresh_token" },
    });
    await oauth.processRevocationResponse(response);
    return "revoked";
  } catch (error) {
    throw classify(error);
  }
}

/**
 * Revokes a refresh token the app cannot keep (the tokens it came with do not fit the session cookie, or its
 * session was signed out while it was refreshed), so that no grant is left alive that nobody holds. Best effort: a failure is logged, and the grant then lapses at the IdP.
 */
export async function discardRefreshToken(refreshToken: string | undefined, options: ClientOptions): Promise<void> {
  if (!refreshToken) return;
  try {
    await revokeRefreshToken(refreshToken, options);
  } catch (error) {
    logError("session", "could not revoke a refresh token the app will not keep", error);
  }
}
