/**
 * Verifies a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6).
 *
 * Everything but the `jti` replay check, which needs shared state (see `server/ended-sessions`): the signature
 * against the IdP's keys, `iss`, `aud` (our client), `iat` no older than a few minutes, the back-channel
 * logout event, `sid` and/or `sub`, and no `nonce`. Key getter and clock are injected. Edge-safe.
 */
import { errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { CodedError } from "@/lib/errors";
import { CLOCK_TOLERANCE, SIGNING_ALGORITHMS } from "./jwt-rules";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** Seconds: an older logout token is refused, which bounds how long its `jti` must be remembered. */
export const MAX_LOGOUT_TOKEN_AGE = 300;

export type LogoutTokenErrorCode =
  /** Not a logout token from our IdP for this client: answer 400. */
  | "invalid_logout_token"
  /** The IdP's keys could not be fetched, so the token could not be checked: nothing is known about it. */
  | "keys_unavailable";

export class LogoutTokenError extends CodedError<LogoutTokenErrorCode> {
  override readonly name = "LogoutTokenError";
}

/** A verified logout token: it names a session, a subject, or both. */
export type LogoutToken = {
  jti: string;
  /** `iat`, epoch seconds on the IdP's clock: sessions ended by `sub` alone are those the IdP had started by then. */
  issuedAt: number;
  /** Epoch seconds after which this token would be refused anyway, so its `jti` need not be remembered longer. */
  acceptableUntil: number;
} & ({ sid: string; sub?: string } | { sid?: undefined; sub: string });

export interface LogoutTokenVerifierOptions {
  issuer: string;
  clientId: string;
  getKey: JWTVerifyGetKey;
  /** Seconds of leeway for `exp` and `iat`. */
  clockTolerance?: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

const invalid = (message: string, cause?: unknown) => new LogoutTokenError("invalid_logout_token", message, { cause });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const optionalString = (payload: Record<string, unknown>, claim: string): string | undefined => {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw invalid(`${claim} is not a non-empty string`);
  return value;
};

/** A token jose could not even check for want of keys says nothing about the token itself. */
function classify(error: unknown): LogoutTokenError {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
    return new LogoutTokenError("keys_unavailable", "The IdP's signing keys could not be fetched", { cause: error });
  }
  return invalid(`The logout token did not verify: ${error.message}`, error);
}

export function createLogoutTokenVerifier({ issuer, clientId, getKey, clockTolerance = CLOCK_TOLERANCE, now = Date.now }: LogoutTokenVerifierOptions) {
  return async function verifyLogoutToken(token: string): Promise<LogoutToken> {
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, getKey, {
        issuer,
        audience: clientId,
        algorithms: SIGNING_ALGORITHMS,
        clockTolerance,
        maxTokenAge: MAX_LOGOUT_TOKEN_AGE,
        requiredClaims: ["iat", "jti", "events"],
        currentDate: new Date(now()),
      });
    } catch (error) {
      throw classify(error);
    }
    const { payload, protectedHeader } = verified;

    // Section 2.4: `typ` is recommended, not required; when present it must say what the token is, so that
    // an ID token (`JWT`) or an access token (`at+jwt`) cannot pass for a logout token.
    const typ = protectedHeader.typ?.toLowerCase().replace(/^application\//, "");
    if (typ !== undefined && typ !== "logout+jwt") throw invalid(`typ "${protectedHeader.typ}" is not logout+jwt`);
    if (!isObject(payload.events) || !isObject(payload.events[BACKCHANNEL_LOGOUT_EVENT])) {
      throw invalid("events lacks the back-channel logout event");
    }
    if (payload.nonce !== undefined) throw invalid("a logout token must not carry a nonce");
    const jti = optionalString(payload, "jti");
    if (jti === undefined) throw invalid("jti is missing");
    const sid = optionalString(payload, "sid");
    const sub = optionalString(payload, "sub");

    // jose has checked that `iat` is present, a number, and neither too old nor from the future.
    const iat = payload.iat as number;
    // Whole seconds, as a session's start is.
    const issuedAt = Math.floor(iat);
    const youngEnoughUntil = iat + MAX_LOGOUT_TOKEN_AGE + clockTolerance;
    const acceptableUntil = Math.ceil(typeof payload.exp === "number" ? Math.min(youngEnoughUntil, payload.exp + clockTolerance) : youngEnoughUntil);
    if (sid !== undefined) return { jti, issuedAt, acceptableUntil, sid, ...(sub === undefined ? {} : { sub }) };
    if (sub !== undefined) return { jti, issuedAt, acceptableUntil, sub };
    throw invalid("neither sid nor sub is present");
  };
}
