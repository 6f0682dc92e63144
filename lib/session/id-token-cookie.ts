/**
 * The ID token, kept apart from the session. It serves only as `id_token_hint` at sign-out, yet it is the largest
 * thing the session would hold, and the session travels with every request. So it has a sealed cookie of its own
 * whose `Path` is the sign-out route: the browser sends it there and nowhere else.
 *
 * A cookie with a `Path` cannot be `__Host-`, so a sibling subdomain could plant one (another user's, sealed by
 * this very app). It is therefore sealed together with the id of the session it belongs to, and ignored under any
 * other: sign-out then goes on without a hint, as it does when the cookie is missing or too large to keep. Edge-safe.
 */
import { getConfig } from "@/lib/config";
import { logInfo } from "@/lib/log";
import { createSessionCodec, type SessionCodec } from "./codec";
import { CHUNK_SIZE, COOKIE_NAMES, cookieDeletion, setCookie } from "./cookies";
import type { Session } from "./session";

let codec: SessionCodec | undefined;

/** Keys are derived once per process; the salt binds the seal to this cookie's name, apart from the session's. */
function idTokenCodec(): SessionCodec {
  codec ??= createSessionCodec(getConfig().authSecrets, COOKIE_NAMES.idToken);
  return codec;
}

/**
 * The `Set-Cookie` that stores `session`'s ID token until the session ends; `undefined` when it has none, or when
 * the token is too large for one cookie (sign-out then asks the IdP without a hint, and says nothing is lost).
 */
export async function idTokenCookie(session: Session): Promise<string | undefined> {
  if (!session.idToken) return undefined;
  const sealed = await idTokenCodec().seal({ sessionId: session.id, idToken: session.idToken }, session.expiresAt);
  if (sealed.length > CHUNK_SIZE) {
    logInfo("session", `the ID token does not fit its cookie (${sealed.length} characters sealed): sign-out will not hint with it`);
    return undefined;
  }
  return setCookie(COOKIE_NAMES.idToken, sealed, { expires: new Date(session.expiresAt * 1000) });
}

/** Browsers send no more than a few cookies of one name (one per path and domain); more are not ours to try. */
const MAX_CANDIDATES = 4;

/**
 * The ID token for `session` among every ID-token cookie of a `Cookie` header. A sibling subdomain can plant one
 * with `Domain=` and the same path, which the browser sends after ours, and which a parser that keeps one value
 * per name would keep: so each is tried, and only the one sealed for this session counts.
 */
export async function idTokenInHeader(session: Session, header: string | null): Promise<string | undefined> {
  const prefix = `${COOKIE_NAMES.idToken}=`;
  const candidates = (header ?? "")
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(prefix))
    .slice(0, MAX_CANDIDATES);
  for (const pair of candidates) {
    const idToken = await idTokenFor(session, pair.slice(prefix.length));
    if (idToken) return idToken;
  }
  return undefined;
}

/** The ID token the cookie holds for `session`; `undefined` for none, or one sealed for another session. */
export async function idTokenFor(session: Session, sealed: string | undefined): Promise<string | undefined> {
  if (!sealed) return undefined;
  const payload = await idTokenCodec().open(sealed);
  if (payload?.sessionId !== session.id || typeof payload.idToken !== "string") return undefined;
  return payload.idToken;
}

export const ID_TOKEN_COOKIE_DELETION = cookieDeletion(COOKIE_NAMES.idToken);
