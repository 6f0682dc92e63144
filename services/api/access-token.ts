import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type ProtectedHeaderParameters } from "jose";

/**
 * Access-token verification for a resource server (RFC 6750 transport, RFC 9068 token profile).
 * Nothing here touches the network or the environment: keys come from the injected `getKey`.
 */

export type AccessTokenErrorCode =
  | "missing_token"
  | "malformed_authorization"
  | "token_too_large"
  | "malformed_token"
  | "unsupported_alg"
  | "unsupported_typ"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "issued_in_future"
  | "wrong_issuer"
  | "wrong_audience"
  | "invalid_claims"
  /** The issuer's keys could not be obtained: the token was not judged. */
  | "keys_unavailable";

export class AccessTokenError extends Error {
  override readonly name = "AccessTokenError";
  constructor(
    readonly code: AccessTokenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Asymmetric only: an HMAC secret would have to be shared with every resource server. */
export const ACCEPTED_ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const;

export const MAX_TOKEN_LENGTH = 8 * 1024;
export const MAX_HEADER_LENGTH = 2 * 1024;

/**
 * Resolves the verification key. It sees only `alg` and `kid`, so header parameters that carry
 * keys or point at them (`jwk`, `jku`, `x5c`, `x5u`) can never influence which key is used.
 */
export type KeyResolver = (header: { alg: string; kid?: string }) => Promise<CryptoKey>;

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
  jti: string;
  sid?: string;
  clientId?: string;
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// A comma can never appear, so two headers joined by ", " fail this match too.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Extracts the token from an `Authorization` header value (`undefined` when the header is absent). */
export function parseAuthorization(header: string | null | undefined): string {
  if (header === undefined || header === null) throw new AccessTokenError("missing_token", "no Authorization header");
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new AccessTokenError("malformed_authorization", "Authorization is not a single Bearer token");
  return match[1];
}

/** RFC 9068 section 4 compares `typ` case-insensitively, with or without the `application/` prefix. */
export function normalizeTokenType(typ: string): string {
  const lower = typ.trim().toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}

const isAcceptedAlgorithm = (alg: unknown): alg is (typeof ACCEPTED_ALGORITHMS)[number] =>
  typeof alg === "string" && (ACCEPTED_ALGORITHMS as readonly string[]).includes(alg);

const nonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/** The checks that cost no cryptography and no key lookup, so junk is turned away cheaply. */
function inspectHeader(token: string, acceptedTypes: readonly string[]) {
  if (token.length > MAX_TOKEN_LENGTH) throw new AccessTokenError("token_too_large", `token longer than ${MAX_TOKEN_LENGTH}`);
  const parts = token.split(".");
  const encodedHeader = parts[0];
  if (parts.length !== 3 || encodedHeader === undefined) throw new AccessTokenError("malformed_token", "not a compact JWS");
  if (encodedHeader.length > MAX_HEADER_LENGTH) throw new AccessTokenError("token_too_large", "header too large");
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new AccessTokenError("malformed_token", "undecodable header", { cause });
  }
  if (!isAcceptedAlgorithm(header.alg)) throw new AccessTokenError("unsupported_alg", `alg ${String(header.alg)} not accepted`);
  const accepted = acceptedTypes.map(normalizeTokenType);
  if (typeof header.typ !== "string" || !accepted.includes(normalizeTokenType(header.typ))) {
    throw new AccessTokenError("unsupported_typ", `typ ${String(header.typ)} not accepted`);
  }
  if (header.kid !== undefined && typeof header.kid !== "string") throw new AccessTokenError("malformed_token", "kid is not a string");
  return { alg: header.alg, kid: header.kid };
}

const CLAIM_CODES: Partial<Record<string, AccessTokenErrorCode>> = {
  iss: "wrong_issuer",
  aud: "wrong_audience",
  nbf: "not_yet_valid",
};

function codeFor(error: unknown): AccessTokenErrorCode {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return CLAIM_CODES[error.claim] ?? "invalid_claims";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "unsupported_alg";
  // Anything else jose rejects comes from the token's bytes (encoding, JSON, crit, b64).
  return "malformed_token";
}

function translate(error: unknown): AccessTokenError {
  if (error instanceof AccessTokenError) return error;
  return new AccessTokenError(codeFor(error), error instanceof Error ? error.message : "rejected", { cause: error });
}

async function resolveKey(getKey: KeyResolver, header: { alg: string; kid?: string }): Promise<CryptoKey> {
  try {
    return await getKey(header);
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      throw new AccessTokenError("unknown_key", "no single key matches kid and alg", { cause: error });
    }
    throw new AccessTokenError("keys_unavailable", "the issuer's keys could not be obtained", { cause: error });
  }
}

function readScopes(payload: JWTPayload): string[] {
  const { scope } = payload;
  if (scope === undefined) return [];
  if (typeof scope !== "string") throw new AccessTokenError("invalid_claims", "scope is not a string");
  return scope.split(" ").filter((s) => s.length > 0);
}

function readOptional(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (!nonEmptyString(value)) throw new AccessTokenError("invalid_claims", `${claim} is not a string`);
  return value;
}

/** Verifies a JWT access token and returns what the resource server may rely on. Throws `AccessTokenError`. */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<AccessToken> {
  const { issuer, audience, clockTolerance, acceptedTypes, getKey, now = Date.now } = options;
  const header = inspectHeader(token, acceptedTypes);
  const currentDate = new Date(now());
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, () => resolveKey(getKey, header), {
      algorithms: [...ACCEPTED_ALGORITHMS],
      issuer,
      audience,
      clockTolerance,
      currentDate,
      requiredClaims: ["exp", "iat", "sub", "jti"],
    }));
  } catch (error) {
    throw translate(error);
  }
  // jose checks `iat` only when a maximum age is set; a token from the future is a forgery or a broken clock.
  if (typeof payload.iat !== "number" || payload.iat > currentDate.getTime() / 1000 + clockTolerance) {
    throw new AccessTokenError("issued_in_future", "iat is in the future");
  }
  const { sub, jti, exp } = payload;
  if (!nonEmptyString(sub) || !nonEmptyString(jti) || typeof exp !== "number") {
    throw new AccessTokenError("invalid_claims", "sub, jti or exp malformed");
  }
  const sid = readOptional(payload, "sid");
  const clientId = readOptional(payload, "client_id");
  return {
    sub,
    scopes: readScopes(payload),
    exp,
    jti,
    ...(sid === undefined ? {} : { sid }),
    ...(clientId === undefined ? {} : { clientId }),
  };
}
