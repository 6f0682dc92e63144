/**
 * The list of invalidated access tokens: one token (by `jti`), or the tokens of a session (by `sid`) or of a subject
 * (by `sub`, when the IdP logs a user out of all sessions) issued up to a moment.
 * `until` is in epoch seconds: once it passes, every token the entry covers has expired anyway, so the entry goes.
 */
export type Revocation =
  | { jti: string; until: number }
  /**
   * Tokens of session `sid` whose `iat` is at or before `issuedUpTo` (epoch seconds). A cut-off rather than the
   * whole session: an IdP whose SSO session outlived the sign-out issues new tokens under the same `sid`.
   */
  | { sid: string; issuedUpTo: number; until: number }
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
  /**
   * Records the revocation; entries only ever grow: a shorter `until` never shortens an existing one, and an
   * earlier `issuedUpTo` never moves a cut-off back.
   */
  revoke(revocation: Revocation): Promise<void>;
  /**
   * Records the revocation and the message's `jti` as one step; answers false, recording nothing, when the `jti`
   * was seen before. A failure records nothing either, so the sender may retry.
   */
  revokeOnce(revocation: Revocation, message: OneTimeMessage): Promise<boolean>;
  /**
   * One look-up for all the entries that could cover the token. A store that holds the list in memory answers at
   * once rather than with a promise, which spares every authenticated request a turn of the microtask queue.
   */
  isRevoked(token: RevocationQuery): boolean | Promise<boolean>;
}
