import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type ProtectedHeaderParameters } from "jose";

/**
 * The checks every JWT from the issuer goes through, whatever it is for: size, shape, algorithm, type, key,
 * signature, issuer, audience and time. Nothing here touches the network or the environment: keys come from
 * the injected `getKey`.
 */

export type TokenErrorCode =
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
  /** An ID token (a `nonce`, an `at_hash`, a client as audience) presented as an access token. */
  | "id_token_presented"
  /** A logout token without the back-channel logout event. */
  | "missing_logout_event"
  /** A logout token with a `nonce`, which only ID tokens carry. */
  | "nonce_present"
  /** A logout token naming neither a session nor a subject. */
  | "missing_sid_and_sub"
  /** A logout token issued too long ago to be accepted. */
  | "stale"
  /** The issuer's keys could not be obtained: the token was not judged. */
  | "keys_unavailable";

export class TokenError extends Error {
  override readonly name = "TokenError";
  constructor(
    readonly code: TokenErrorCode,
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

export interface SignedTokenOptions {
  getKey: KeyResolver;
  issuer: string;
  /** The token's `aud` must contain one of these. */
  audience: string | readonly string[];
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Accepted `typ` header values, compared as `normalizeTokenType` does. */
  acceptedTypes: readonly string[];
  /** Whether a token without `typ` is refused (access tokens) or allowed (logout tokens). */
  typRequired: boolean;
  requiredClaims: readonly string[];
  /** Epoch milliseconds. */
  now?: () => number;
}

/** RFC 9068 section 4 compares `typ` case-insensitively, with or without the `application/` prefix. */
export function normalizeTokenType(typ: string): string {
  const lower = typ.trim().toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}

export const nonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/** A claim that may be absent but, when present, must be a non-empty string. */
export function readOptionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (!nonEmptyString(value)) throw new TokenError("invalid_claims", `${claim} is not a string`);
  return value;
}

const isAcceptedAlgorithm = (alg: unknown): alg is (typeof ACCEPTED_ALGORITHMS)[number] =>
  typeof alg === "string" && (ACCEPTED_ALGORITHMS as readonly string[]).includes(alg);

/** The checks that cost no cryptography and no key lookup, so junk is turned away cheaply. */
function inspectHeader(token: string, acceptedTypes: readonly string[], typRequired: boolean) {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError("token_too_large", `token longer than ${MAX_TOKEN_LENGTH}`);
  const parts = token.split(".");
  const encodedHeader = parts[0];
  if (parts.length !== 3 || encodedHeader === undefined) throw new TokenError("malformed_token", "not a compact JWS");
  if (encodedHeader.length > MAX_HEADER_LENGTH) throw new TokenError("token_too_large", "header too large");
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new TokenError("malformed_token", "undecodable header", { cause });
  }
  if (!isAcceptedAlgorithm(header.alg)) throw new TokenError("unsupported_alg", `alg ${String(header.alg)} not accepted`);
  const typAllowed =
    header.typ === undefined
      ? !typRequired
      : typeof header.typ === "string" && acceptedTypes.map(normalizeTokenType).includes(normalizeTokenType(header.typ));
  if (!typAllowed) throw new TokenError("unsupported_typ", `typ ${String(header.typ)} not accepted`);
  if (header.kid !== undefined && typeof header.kid !== "string") throw new TokenError("malformed_token", "kid is not a string");
  return { alg: header.alg, kid: header.kid };
}

const CLAIM_CODES: Partial<Record<string, TokenErrorCode>> = {
  iss: "wrong_issuer",
  aud: "wrong_audience",
  nbf: "not_yet_valid",
};

function codeFor(error: unknown): TokenErrorCode {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return CLAIM_CODES[error.claim] ?? "invalid_claims";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JOSEAlgNotAllowed) return "unsupported_alg";
  // Anything else jose rejects comes from the token's bytes (encoding, JSON, crit, b64).
  return "malformed_token";
}

function translate(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  return new TokenError(codeFor(error), error instanceof Error ? error.message : "rejected", { cause: error });
}

async function resolveKey(getKey: KeyResolver, header: { alg: string; kid?: string }): Promise<CryptoKey> {
  try {
    return await getKey(header);
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      throw new TokenError("unknown_key", "no single key matches kid and alg", { cause: error });
    }
    throw new TokenError("keys_unavailable", "the issuer's keys could not be obtained", { cause: error });
  }
}

/**
 * Verifies a JWT of the issuer and returns its payload, with `iat` present and not in the future.
 * Throws `TokenError`; what the claims mean is for the caller to judge.
 */
export async function verifySignedToken(token: string, options: SignedTokenOptions): Promise<JWTPayload & { iat: number }> {
  const { issuer, audience, clockTolerance, acceptedTypes, typRequired, requiredClaims, getKey, now = Date.now } = options;
  const header = inspectHeader(token, acceptedTypes, typRequired);
  const currentDate = new Date(now());
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, () => resolveKey(getKey, header), {
      algorithms: [...ACCEPTED_ALGORITHMS],
      issuer,
      audience: typeof audience === "string" ? audience : [...audience],
      clockTolerance,
      currentDate,
      requiredClaims: [...requiredClaims],
    }));
  } catch (error) {
    throw translate(error);
  }
  const { iat } = payload;
  if (typeof iat !== "number") throw new TokenError("invalid_claims", "iat missing or not a number");
  // jose checks `iat` only when a maximum age is set; a token from the future is a forgery or a broken clock.
  if (iat > currentDate.getTime() / 1000 + clockTolerance) throw new TokenError("issued_in_future", "iat is in the future");
  return { ...payload, iat };
}
