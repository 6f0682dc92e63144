import { nonEmptyString, readOptionalString, TokenError, verifySignedToken, type KeyResolver } from "./signed-token";

/** Logout-token verification (OpenID Connect Back-Channel Logout 1.0, section 2.6). */

const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** Seconds: an older logout token is refused, which bounds how long its `jti` must be remembered. */
export const MAX_LOGOUT_TOKEN_AGE = 300;

export interface VerifyLogoutTokenOptions {
  getKey: KeyResolver;
  issuer: string;
  /** The clients whose logout tokens are honoured: `aud` must contain one of them. */
  audiences: readonly string[];
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** A verified logout token: it names a session, a subject, or both. */
export type LogoutToken = {
  jti: string;
  /**
   * `iat` in whole epoch seconds, on the IdP's clock: when the logout happened. The verifier trusts that clock no
   * further than `clockTolerance` ahead of ours (a later `iat` is `issued_in_future`), as the web app's does.
   */
  issuedAt: number;
  /** Epoch seconds after which this token would be refused anyway, so its `jti` need not be remembered longer. */
  acceptableUntil: number;
} & ({ sid: string; sub?: string } | { sid?: undefined; sub: string });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Verifies a logout token and returns what a revocation needs. Throws `TokenError`. */
export async function verifyLogoutToken(token: string, options: VerifyLogoutTokenOptions): Promise<LogoutToken> {
  const { audiences, clockTolerance, now = Date.now } = options;
  const payload = await verifySignedToken(token, {
    ...options,
    audience: audiences,
    // Section 2.4: `typ` is recommended, not required; when present it must say what the token is, so an
    // access token (`at+jwt`) or an ID token (`JWT`) cannot pass for a logout token.
    acceptedTypes: ["logout+jwt"],
    typRequired: false,
    requiredClaims: ["iat", "jti"],
  });
  const { events, jti, nonce, iat } = payload;
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new TokenError("missing_logout_event", "events lacks the back-channel logout event");
  }
  if (nonce !== undefined) throw new TokenError("nonce_present", "a logout token must not carry a nonce");
  if (!nonEmptyString(jti)) throw new TokenError("invalid_claims", "jti is not a string");
  const sid = readOptionalString(payload, "sid");
  const sub = readOptionalString(payload, "sub");

  const youngEnoughUntil = iat + MAX_LOGOUT_TOKEN_AGE + clockTolerance;
  if (now() / 1000 > youngEnoughUntil) throw new TokenError("stale", `issued more than ${MAX_LOGOUT_TOKEN_AGE}s ago`);
  // Whole seconds, as the web app dates a logout.
  const issuedAt = Math.floor(iat);
  const acceptableUntil = Math.ceil(
    typeof payload.exp === "number" ? Math.min(youngEnoughUntil, payload.exp + clockTolerance) : youngEnoughUntil,
  );
  if (sid !== undefined) return { jti, issuedAt, acceptableUntil, sid, ...(sub === undefined ? {} : { sub }) };
  if (sub !== undefined) return { jti, issuedAt, acceptableUntil, sub };
  throw new TokenError("missing_sid_and_sub", "neither sid nor sub present");
}
