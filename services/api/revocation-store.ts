/**
 * The list of invalidated access tokens (by `jti`) and sessions (by `sid`).
 * `until` is in epoch seconds: once it passes, every token the entry covers has expired anyway, so the entry goes.
 */
export type Revocation = { jti: string; until: number } | { sid: string; until: number };

export interface RevocationStore {
  revoke(revocation: Revocation): Promise<void>;
  isRevoked(token: { jti: string; sid?: string }): Promise<boolean>;
}

export const revocationKind = (revocation: Revocation): ["jti" | "sid", string] =>
  "jti" in revocation ? ["jti", revocation.jti] : ["sid", revocation.sid];
