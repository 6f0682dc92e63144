/**
 * The session as Server Components, route handlers and Server Actions see it: the one reader that consults the
 * list of ended sessions, so this is where a copy of a signed-out cookie is refused. Node runtime only.
 *
 * It only reads: refreshing is the middleware's job, so nothing here ever calls the IdP. The ended-list check is
 * one look-up in memory (or one Redis round trip) per call. Opened cookies are remembered (see
 * `opened-sessions.ts`), so a cookie seen before is not decrypted again.
 */
import { cookies } from "next/headers";
import { logError } from "@/lib/log";
import { unsealSession } from "@/lib/session/seal";
import type { Session } from "@/lib/session/session";
import { chunksInHeader, COOKIE_NAMES, joinChunks, type CookieLike } from "@/lib/session/cookies";
import { endedSessions } from "./ended-sessions";
import { endedKeys, type EndedSessions } from "./ended-sessions/store";
import { rememberOpenedSessions } from "./opened-sessions";

// One memo for the process, not one per route bundle (see `endedSessions` for why module state is per route).
const MEMO = Symbol.for("tessera.openedSessions");
const open = ((globalThis as { [MEMO]?: (sealed: string) => Promise<Session | null> })[MEMO] ??= rememberOpenedSessions(unsealSession));

/**
 * This request's session, if its cookie holds one this app sealed and the list of ended sessions does not name
 * it. A route handler passes its `request`, whose `Cookie` header is read directly; pages and Server Actions read
 * the cookies through `next/headers`.
 */
export async function getAdmittedSession(request?: Request): Promise<Session | null> {
  const sent: Iterable<CookieLike> = request ? chunksInHeader(COOKIE_NAMES.session, request.headers.get("cookie")) : (await cookies()).getAll();
  const sealed = joinChunks(COOKIE_NAMES.session, sent);
  return admitSession(sealed ? await open(sealed) : null, endedSessions);
}

/**
 * `session`, unless it (or its IdP session) is on the list of ended sessions.
 *
 * Fails open: when the list cannot be read, the session is admitted and the failure logged. Failing closed
 * would sign every user out, or take the app down, for as long as the store is unavailable, and it would
 * buy little: the API checks the same `sid` against its own list and refuses when it cannot, and the IdP
 * refuses the revoked refresh token, so a copied cookie still loses access to the API at once and to its
 * user's name and email at the next refresh, a few minutes at most.
 */
export async function admitSession(session: Session | null, store: () => EndedSessions): Promise<Session | null> {
  if (!session) return null;
  try {
    return (await store().isEnded(session.startedAt, ...endedKeys(session))) ? null : session;
  } catch (error) {
    logError("session", "could not read the list of ended sessions; admitting the session", error);
    return session;
  }
}
