/**
 * The list of invalidated access tokens: one token (by `jti`), every token of a session (by `sid`), or every token
 * of a subject issued up to a moment (by `sub`, when the IdP logs a user out of all sessions).
 * `until` is in epoch seconds: once it passes, every token the entry covers has expired anyway, so the entry goes.
 */
export type Revocation =
  | { jti: string; until: number }
  | { sid: string; until: number }
  /** Tokens of `sub` whose `iat` is at or before `issuedUpTo` (epoch seconds). */
  | { sub: string; issuedUpTo: number; until: number };

/** What the list is checked against: the verified claims of an access token. */
export interface RevocationQuery {
  jti: string;
  sid?: string;
  sub: string;
  /** Epoch seconds. */
  iat: number;
}

/** A message that may be acted on once only, such as a logout token, identified by its `jti`. */
export interface OneTimeMessage {
  jti: string;
  /** Epoch seconds after which a replay would be refused anyway, so the `jti` may be forgotten. */
  until: number;
}

export interface RevocationStore {
  /** Records the revocation; entries only ever grow, so a shorter `until` never shortens an existing one. */
  revoke(revocation: Revocation): Promise<void>;
  /**
   * Records the revocation and the message's `jti` as one step; answers false, recording nothing, when the `jti`
   * was seen before. A failure records nothing either, so the sender may retry.
   */
  revokeOnce(revocation: Revocation, message: OneTimeMessage): Promise<boolean>;
  /** One look-up for all the entries that could cover the token. */
  isRevoked(token: RevocationQuery): Promise<boolean>;
}
