/**
 * The app's one session codec, and the session cookie's value: sealed within the cookie budget, and opened
 * into a session. Opening checks the seal and the shape only; whether a session was ended is the server's
 * business (`server/session-reader`). Edge-safe.
 */
import { getConfig } from "@/lib/config";
import { CodedError } from "@/lib/errors";
import { createSessionCodec, type SessionCodec } from "./codec";
import { CHUNK_SIZE, COOKIE_NAMES, joinChunks, type CookieLike } from "./cookies";
import { sessionFromPayload, sessionPayload, type Session } from "./session";

/**
 * The cookie budget: three chunks, about 11.7 KB. Every request to the app carries the session, and
 * Node.js (so `next start`) answers 431 to a request whose headers pass 16 KB in all. The rest is left
 * for the browser's own headers and the host's other cookies: at four chunks, a session within the
 * budget made every request from the browser fail with 431, sign-out included.
 */
export const MAX_SEALED_LENGTH = 3 * CHUNK_SIZE;

/** The page that tells the user their session ended, or could not start, because it does not fit the cookie. */
export const SESSION_TOO_LARGE_PAGE = "/auth/error?error=SessionTooLarge";

export class SessionTooLargeError extends CodedError<"session_too_large"> {
  override readonly name = "SessionTooLargeError";
  constructor(length: number) {
    super("session_too_large", `The sealed session is ${length} characters, over the ${MAX_SEALED_LENGTH} budget: the IdP's tokens are too large for a cookie session`);
  }
}

let codec: SessionCodec | undefined;

/** Keys are derived once per process; the salt binds the seal to this cookie's name. */
function sessionCodec(): SessionCodec {
  codec ??= createSessionCodec(getConfig().authSecrets, COOKIE_NAMES.session, Date.now, { openLegacyJwe: true });
  return codec;
}

/** The session in the request's cookies, as sealed: `null` when there is none, or none this app sealed. */
export async function readSessionCookie(cookies: Iterable<CookieLike>): Promise<Session | null> {
  const sealed = joinChunks(COOKIE_NAMES.session, cookies);
  return sealed ? unsealSession(sealed) : null;
}

export async function unsealSession(sealed: string): Promise<Session | null> {
  return sessionFromPayload(await sessionCodec().open(sealed));
}

/**
 * Seals with the newest secret, without the ID token, which has a cookie of its own (`id-token-cookie.ts`). Over
 * budget: refused, never truncated.
 */
export async function sealSession(session: Session): Promise<string> {
  const sealed = await sessionCodec().seal(sessionPayload({ ...session, idToken: undefined }), session.expiresAt);
  if (sealed.length > MAX_SEALED_LENGTH) throw new SessionTooLargeError(sealed.length);
  return sealed;
}
