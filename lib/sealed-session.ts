/**
 * The app's one session codec, and reading the session from request cookies. Edge-safe.
 */
import { getConfig } from "./config";
import { createSessionCodec, type SessionCodec } from "./session-codec";
import { COOKIE_NAMES, joinChunks, type CookieLike } from "./session-cookie";
import { parseSession, sessionPayload, type Session } from "./session";

let codec: SessionCodec | undefined;

/** Keys are derived once per process; the salt binds the seal to this cookie's name. */
export function sessionCodec(): SessionCodec {
  codec ??= createSessionCodec(getConfig().authSecrets, COOKIE_NAMES.session);
  return codec;
}

export async function readSession(cookies: Iterable<CookieLike>): Promise<Session | null> {
  const sealed = joinChunks(COOKIE_NAMES.session, cookies);
  if (!sealed) return null;
  return parseSession(await sessionCodec().open(sealed));
}

export function sealSession(session: Session): Promise<string> {
  return sessionCodec().seal(sessionPayload(session), session.expiresAt);
}
