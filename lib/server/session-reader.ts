/**
 * The session as Server Components, route handlers and Server Actions see it: the one reader that consults the
 * list of ended sessions, so this is where a copy of a signed-out cookie is refused. Node runtime only.
 *
 * It only reads: refreshing is the middleware's job, so nothing here ever calls the IdP. The ended-list check is
 * one look-up in memory (or one Redis round trip) per call. Opened cookies are remembered (see
 * `opened-sessions.ts`), so a cookie seen before is not decrypted again.
 */
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { CodedError } from "@/lib/errors";
import { logError } from "@/lib/log";
import { unsealSession } from "@/lib/session/seal";
import { countEndedSessionRefusal } from "@/lib/telemetry/signals";
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
 * `getAdmittedSession` for a page that needs the session: while the list of ended sessions cannot be read, the
 * browser goes to `/unavailable` (503, a way back to `returnTo`) rather than to an error page or to sign-in.
 */
export async function getPageSession(returnTo: string): Promise<Session | null> {
  try {
    return await getAdmittedSession();
  } catch (error) {
    if (error instanceof SessionCheckUnavailableError) redirect(`/unavailable?returnTo=${encodeURIComponent(returnTo)}`);
    throw error;
  }
}

/**
 * The list of ended sessions could not be read (Redis unreachable or too slow). Nobody is admitted and nobody is
 * signed out: callers answer 503 with `Retry-After` and leave the session cookie as it is.
 */
export class SessionCheckUnavailableError extends CodedError<"session_check_unavailable"> {
  override readonly name = "SessionCheckUnavailableError";
}


/**
 * `session`, unless it (or its IdP session) is on the list of ended sessions.
 *
 * Fails closed: when the list cannot be read, no session is admitted, because one ended on another instance
 * would be among them. Nor is any session ended: the caller answers 503 and keeps the cookie, and the same
 * session is admitted again as soon as the list answers.
 */
export async function admitSession(session: Session | null, store: () => EndedSessions): Promise<Session | null> {
  if (!session) return null;
  try {
    if (!(await store().isEnded(session.startedAt, ...endedKeys(session)))) return session;
    countEndedSessionRefusal();
    return null;
  } catch (error) {
    logError("session", "could not read the list of ended sessions; answering 503 and keeping the session", error);
    throw new SessionCheckUnavailableError("session_check_unavailable", "The list of ended sessions cannot be read", { cause: error });
  }
}
