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
  /**
   * The client ids of the apps. An ID token is addressed to its client; an access token for the API never is, so
   * a token whose `aud` names one of them is an ID token, whatever its `typ`.
   */
  clientIds: readonly string[];
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
// Credentials of the Bearer scheme anywhere in the header, even beside others (two headers joined by ", ").
const BEARER_SCHEME = /(?:^|,)\s*bearer(?:\s|,|$)/i;

/**
 * Extracts the token from an `Authorization` header value (`undefined` or `null` when absent). Throws
 * `missing_token` when there are no bearer credentials (no header, or only another scheme), and
 * `malformed_authorization` when there are but they are not exactly one well-formed token.
 */
export function parseAuthorization(header: string | null | undefined): string {
  if (header === undefined || header === null) throw new TokenError("missing_token", "no Authorization header");
  if (!BEARER_SCHEME.test(header)) throw new TokenError("missing_token", "Authorization uses another scheme");
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new TokenError("malformed_authorization", "Authorization is not a single Bearer token");
  return match[1];
}

// OpenID Connect Core 1.0 sections 2 and 3.3.2.11: claims of ID tokens that an access token has no use for.
const ID_TOKEN_CLAIMS = ["nonce", "at_hash", "c_hash"] as const;

/**
 * Where `typ` JWT is accepted (Keycloak, Entra ID), an ID token would pass every other check once its `aud` names
 * the API as well as the client, so what only ID tokens carry is refused.
 */
function refuseIdToken(payload: JWTPayload, clientIds: readonly string[]): void {
  const marker = ID_TOKEN_CLAIMS.find((claim) => payload[claim] !== undefined);
  if (marker !== undefined) throw new TokenError("id_token_presented", `an access token does not carry ${marker}`);
  const audiences = typeof payload.aud === "string" ? [payload.aud] : (payload.aud ?? []);
  if (audiences.some((aud) => clientIds.includes(aud))) {
    throw new TokenError("id_token_presented", "aud names a client of the API");
  }
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
  refuseIdToken(payload, options.clientIds);
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
