/**
 * The BFF's list of ended sessions, as a contract: what a store does, and what it is keyed by. The stores
 * (`sqlite.ts`, `redis.ts`) implement it; `index.ts` picks one.
 *
 * Deleting a cookie in one browser does nothing to a copy of it. So sign-out and back-channel logout
 * record the session here (see `endedKey`), and the server-side session reader refuses a cookie whose
 * keys are listed. An entry is kept until the session it names would have ended anyway, then dropped.
 * Pure.
 */
import type { Session } from "@/lib/session/session";

/** A message that may be acted on once only (a logout token), by its `jti`. */
export interface OneTimeMessage {
  jti: string;
  /** Epoch seconds after which the message would be refused anyway, so its `jti` may be forgotten. */
  until: number;
}

export interface EndedSessions {
  /**
   * Lists `key` as ended until `until` (epoch seconds), for every session with that key that started at or before
   * `startedBy` (epoch seconds; by default, all of them). An entry is only ever extended, never shortened.
   */
  end(key: string, until: number, startedBy?: number): Promise<void>;
  /**
   * As `end` (when there is a key), at most once per message, in one step: false, recording nothing, when the
   * message's `jti` was seen before. A failure records nothing either, so the sender may try again.
   */
  endOnce(key: string | undefined, until: number, message: OneTimeMessage, startedBy?: number): Promise<boolean>;
  /**
   * Whether a session that started at `startedAt` (epoch seconds) is ended under any of `keys`: one look-up (one
   * Redis round trip) for a session's every key.
   */
  isEnded(startedAt: number, ...keys: string[]): Promise<boolean>;
}

/**
 * What the list is keyed by. Sign-out lists this app's own session id: a fresh one at every sign-in, so a
 * new session is never caught by an old entry even when the IdP reuses its `sid` (its single sign-on
 * session outlived the sign-out). Back-channel logout lists the IdP's `sid`, all the IdP names, or, when the
 * IdP ends every session of a user, the user's `sub`, for the sessions the IdP had started when it said so: the
 * user can sign in again.
 */
export const endedKey = {
  session: (id: string) => `session:${id}`,
  idp: (sid: string) => `idp:${sid}`,
  subject: (sub: string) => `subject:${sub}`,
};

export function endedKeys(session: Session): string[] {
  const keys = [endedKey.session(session.id), endedKey.subject(session.sub)];
  return session.sid ? [...keys, endedKey.idp(session.sid)] : keys;
}
