/**
 * How the middleware hands a changed session on: to the browser (Set-Cookie) and, in the same
 * request, to the Server Components, route handlers and Server Actions behind it (the request's
 * `cookie` header is rewritten), so they read the new tokens and never refresh again themselves.
 * The freshness hint (see `fresh-hint.ts`) travels with the session. Edge-safe.
 */
import { NextResponse, type NextRequest } from "next/server";
import { CLEAR_FRESH_HINT, freshHintCookie, freshHintMaxAge } from "./fresh-hint";
import { ID_TOKEN_COOKIE_DELETION, idTokenCookie } from "./id-token-cookie";
import { sealSession } from "./seal";
import type { Session } from "./session";
import { chunkNames, COOKIE_NAMES, cookieDeletion, isChunkOf, sessionCookieWrites, type CookieLike } from "./cookies";

/** `request.cookies` holds decoded values: encode them again, as Next.js's own `RequestCookies` does. */
function cookieHeader(cookies: CookieLike[]): string {
  return cookies.map(({ name, value }) => `${name}=${encodeURIComponent(value)}`).join("; ");
}

/**
 * Continue the request with `session` in place of the one it carried, and store it in the browser.
 * `headers` are the request headers the app behind will see; their `cookie` is rewritten.
 */
export async function continueWithSession(
  request: NextRequest,
  headers: Headers,
  session: Session,
  nowSeconds: number = Date.now() / 1000,
): Promise<NextResponse> {
  const existing = request.cookies.getAll();
  const { cookies, setCookies } = sessionCookieWrites(await sealSession(session), new Date(session.expiresAt * 1000), existing);
  const others = existing.filter((cookie) => !isChunkOf(COOKIE_NAMES.session, cookie.name));

  headers.set("cookie", cookieHeader([...others, ...cookies]));
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("cache-control", "no-store");
  for (const value of setCookies) response.headers.append("set-cookie", value);
  // A refresh that brought a new ID token (or a session from before the ID token had a cookie of its own); one too
  // large to keep replaces the older one with nothing, rather than leave sign-out a stale hint.
  if (session.idToken) response.headers.append("set-cookie", (await idTokenCookie(session)) ?? ID_TOKEN_COOKIE_DELETION);
  response.headers.append("set-cookie", freshHintCookie(session, nowSeconds));
  return response;
}

/**
 * Give the browser the freshness hint for `session` if it came without one, unless less than a second is left
 * before the refresh is due; the response is otherwise untouched.
 */
export function withFreshHint<R extends Response>(request: NextRequest, response: R, session: Session, nowSeconds: number): R {
  if (!request.cookies.has(COOKIE_NAMES.fresh) && freshHintMaxAge(session, nowSeconds) > 0) {
    response.headers.append("set-cookie", freshHintCookie(session, nowSeconds));
  }
  return response;
}

/**
 * Delete every session cookie chunk the browser sent, the freshness hint, and the ID token's cookie, which
 * travels only to the sign-out route, so it is deleted whenever there was a session to end.
 */
export function clearSessionCookies<R extends Response>(request: NextRequest, response: R): R {
  const chunks = chunkNames(COOKIE_NAMES.session, request.cookies.getAll());
  for (const name of chunks) response.headers.append("set-cookie", cookieDeletion(name));
  if (chunks.length > 0 || request.cookies.has(COOKIE_NAMES.idToken)) response.headers.append("set-cookie", ID_TOKEN_COOKIE_DELETION);
  if (request.cookies.has(COOKIE_NAMES.fresh)) response.headers.append("set-cookie", CLEAR_FRESH_HINT);
  return response;
}
