/**
 * The app's one session codec, and reading and sealing the session cookie. Edge-safe.
 */
import { getConfig } from "./config";
import { logInfo } from "./log";
import { createSessionCodec, type SessionCodec } from "./session-codec";
import { CHUNK_SIZE, COOKIE_NAMES, joinChunks, type CookieLike } from "./session-cookie";
import { parseSession, sessionPayload, type Session } from "./session";

/**
 * The cookie budget: three chunks, about 11.7 KB. Every request to the app carries the session, and
 * Node.js (so `next start`) answers 431 to a request whose headers pass 16 KB in all. The rest is left
 * for the browser's own headers and the host's other cookies: at four chunks, a session within the
 * budget made every request from the browser fail with 431, sign-out included.
 */
export const MAX_SEALED_LENGTH = 3 * CHUNK_SIZE;

export class SessionTooLargeError extends Error {
  readonly code = "session_too_large";
  constructor(length: number) {
    super(`The sealed session is ${length} characters, over the ${MAX_SEALED_LENGTH} budget: the IdP's tokens are too large for a cookie session`);
    this.name = "SessionTooLargeError";
  }
}

let codec: SessionCodec | undefined;

/** Keys are derived once per process; the salt binds the seal to this cookie's name. */
export function sessionCodec(): SessionCodec {
  codec ??= createSessionCodec(getConfig().authSecrets, COOKIE_NAMES.session);
  return codec;
}

export async function readSession(cookies: Iterable<CookieLike>): Promise<Session | null> {
  const sealed = joinChunks(COOKIE_NAMES.session, cookies);
  return sealed ? openSession(sealed) : null;
}

export async function openSession(sealed: string): Promise<Session | null> {
  return parseSession(await sessionCodec().open(sealed));
}

/**
 * Seals with the newest secret. Over budget, the ID token goes first: it only serves as a hint at
 * sign-out, which then asks the user to confirm instead. Still over budget: refused, never truncated.
 */
export async function sealSession(session: Session): Promise<string> {
  const sealed = await sessionCodec().seal(sessionPayload(session), session.expiresAt);
  if (sealed.length <= MAX_SEALED_LENGTH) return sealed;
  if (session.idToken) {
    logInfo("session", `sealed session over budget (${sealed.length} characters): keeping it without the ID token`);
    return sealSession({ ...session, idToken: undefined });
  }
  throw new SessionTooLargeError(sealed.length);
}
