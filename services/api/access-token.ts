import type { JWTPayload } from "jose";
import { nonEmptyString, readOptionalString, TokenError, verifySignedToken, type KeyResolver } from "./signed-token";

/** Access-token verification for a resource server (RFC 6750 transport, RFC 9068 token profile). */

export interface VerifyAccessTokenOptions {
  getKey: KeyResolver;
  issuer: string;
  audience: string;
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Accepted `typ` header values, e.g. `["at+jwt"]`. */
  acceptedTypes: readonly string[];
  /** Epoch milliseconds. */
  now?: () => number;
}

export interface AccessToken {
  sub: string;
  scopes: string[];
  /** Epoch seconds. */
  exp: number;
  /** Epoch seconds. */
  iat: number;
  jti: string;
  sid?: string;
  clientId?: string;
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// A comma can never appear, so two headers joined by ", " fail this match too.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Extracts the token from an `Authorization` header value (`undefined` when the header is absent). */
export function parseAuthorization(header: string | null | undefined): string {
  if (header === undefined || header === null) throw new TokenError("missing_token", "no Authorization header");
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new TokenError("malformed_authorization", "Authorization is not a single Bearer token");
  return match[1];
}

function readScopes(payload: JWTPayload): string[] {
  const { scope } = payload;
  if (scope === undefined) return [];
  if (typeof scope !== "string") throw new TokenError("invalid_claims", "scope is not a string");
  return scope.split(" ").filter((s) => s.length > 0);
}

/** Verifies a JWT access token and returns what the resource server may rely on. Throws `TokenError`. */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<AccessToken> {
  const payload = await verifySignedToken(token, {
    ...options,
    typRequired: true,
    requiredClaims: ["exp", "iat", "sub", "jti"],
  });
  const { sub, jti, exp, iat } = payload;
  if (!nonEmptyString(sub) || !nonEmptyString(jti) || typeof exp !== "number") {
    throw new TokenError("invalid_claims", "sub, jti or exp malformed");
  }
  const sid = readOptionalString(payload, "sid");
  const clientId = readOptionalString(payload, "client_id");
  return {
    sub,
    scopes: readScopes(payload),
    exp,
    iat,
    jti,
    ...(sid === undefined ? {} : { sid }),
    ...(clientId === undefined ? {} : { clientId }),
  };
}
