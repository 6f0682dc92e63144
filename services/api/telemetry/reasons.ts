/**
 * Why a token was refused, in metrics and spans: the code the API logs for it, from a fixed set, so that each
 * reason is one time series and nothing a caller sends can become a label.
 */
import type { TokenErrorCode } from "../tokens/signed-token";

export type RefusalReason =
  | TokenErrorCode
  /** On the revocation list. */
  | "revoked"
  /** A logout token used before. */
  | "replayed"
  /** The revocation list did not answer (503). */
  | "revocation_unavailable"
  /** A logout-token request without exactly one token in a form body of the allowed size. */
  | "invalid_request"
  /** Anything else: a fault, or a code this list does not know yet. */
  | "other";

// A record rather than a list: a new TokenErrorCode does not compile until it is listed here.
const REASONS: Record<RefusalReason, true> = {
  missing_token: true,
  malformed_authorization: true,
  token_too_large: true,
  malformed_token: true,
  unsupported_alg: true,
  unsupported_typ: true,
  unknown_key: true,
  bad_signature: true,
  expired: true,
  not_yet_valid: true,
  issued_in_future: true,
  wrong_issuer: true,
  wrong_audience: true,
  invalid_claims: true,
  id_token_presented: true,
  missing_logout_event: true,
  nonce_present: true,
  missing_sid_and_sub: true,
  stale: true,
  keys_unavailable: true,
  revoked: true,
  replayed: true,
  revocation_unavailable: true,
  invalid_request: true,
  other: true,
};

/** `code` when it is a known reason, else `other`. */
export const boundedReason = (code: unknown): RefusalReason =>
  typeof code === "string" && Object.hasOwn(REASONS, code) ? (code as RefusalReason) : "other";

/** The reason an error carries in its `code` (a `TokenError`'s), else `other`. */
export const reasonOf = (error: unknown): RefusalReason =>
  boundedReason(typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined);
