/**
 * The answer to the IdP's redirect back, once Auth.js has run the callback: the session is written by this app's
 * own writer, Auth.js's cookies that only the sign-in needed go, and a sign-in whose session does not fit the
 * cookie ends on the page that says so (Auth.js itself names every such failure `Configuration`).
 *
 * 1. The session: Auth.js chunks the cookie it stores at its own size; the middleware rewrites it at another. So its
 *    chunks are joined and written again by `sessionCookieWrites`, the one writer of the session cookie, which also
 *    dates it by the session's own end. Its ID token, which the `jwt` callback handed over (`keepIdToken`), goes
 *    into the cookie of its own, or, when it has none or it does not fit, a cookie left by an earlier sign-in goes.
 * 2. The leftovers: Auth.js deletes its PKCE, state and nonce cookies at the callback itself, but keeps
 *    `callback-url` (where to go once signed in) and writes `csrf` (for its own sign-in and sign-out forms, which
 *    this app does not expose): some 220 bytes that every later request would carry for as long as the browser
 *    runs. A callback that fails (a forged link, a sign-in refused, a session that does not open) leaves
 *    `callback-url` alone, so that the user's own sign-in still returns where it set out for.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { NextRequest } from "next/server";
import { causeChain } from "@/lib/errors";
import { idpRefusalIn, isOAuthErrorCode } from "@/lib/idp/http";
import { COOKIE_NAMES, cookieDeletion, isChunkOf, joinChunks, sessionCookieWrites, type CookieLike } from "@/lib/session/cookies";
import { ID_TOKEN_COOKIE_DELETION, idTokenCookie } from "@/lib/session/id-token-cookie";
import { unsealSession } from "@/lib/session/seal";
import { countSignIn, type SignInOutcome } from "@/lib/telemetry/signals";

interface Callback {
  /** The `error` the IdP sent the browser back with, instead of a code (`access_denied`, say). */
  authorizationError: string | null;
  tooLarge: boolean;
  /** The new session's ID token, which the session cookie does not hold: it goes into a cookie of its own. */
  idToken?: string;
}

const callbacks = new AsyncLocalStorage<Callback>();

/**
 * The log line for a sign-in that failed, from Auth.js's logger, which sees the callback's error: what the IdP
 * refused (the endpoint, the status and its `error` code; or the error it sent the browser back with), and,
 * noted for the callback's answer, whether the session did not fit the cookie.
 */
export function signInFailure(error: unknown): string {
  const callback = callbacks.getStore();
  if (callback && [...causeChain(error)].some((cause) => (cause as { code?: unknown }).code === "session_too_large")) callback.tooLarge = true;
  // Only where Auth.js found the IdP's error in a callback whose state checked out: a forged link's is not the IdP's.
  const code = (error as { type?: unknown } | null | undefined)?.type === "OAuthCallbackError" ? callback?.authorizationError : undefined;
  const sentBack = code ? `the authorization endpoint sent the browser back with ${isOAuthErrorCode(code) ? `error ${code}` : "an unrecognised error"}` : undefined;
  const refusal = idpRefusalIn(error) ?? sentBack;
  if (callback) countSignIn(refusal ? "idp_error" : signInOutcome(error));
  return `sign-in failed${refusal ? `: ${refusal}` : ""}`;
}

/**
 * What failed in a sign-in the IdP did not refuse, by the errors' stable codes: a state, nonce or PKCE check
 * (Auth.js's `InvalidCheck`: a cookie missing or not matching; oauth4webapi's comparison of `state` or `nonce`), or
 * the ID token (`jose`'s `ERR_JW…`, oauth4webapi's claim and timestamp checks).
 */
export function signInOutcome(error: unknown): Exclude<SignInOutcome, "ok" | "idp_error"> {
  for (const cause of causeChain(error)) {
    const { type, code, message } = cause as { type?: unknown; code?: unknown; message?: unknown };
    const about = typeof message === "string" ? message : "";
    if (type === "InvalidCheck" || (typeof code === "string" && code.startsWith("OAUTH_") && /"(state|nonce)"/.test(about))) return "check_failed";
    if (typeof code === "string" && (code.startsWith("ERR_JW") || code === "OAUTH_JWT_CLAIM_COMPARISON_FAILED" || code === "OAUTH_JWT_TIMESTAMP_CHECK_FAILED")) {
      return "id_token_rejected";
    }
  }
  return "failed";
}

/** Called by Auth.js's `jwt` callback with the new session's ID token, for `finishSignIn` to store apart. */
export function keepIdToken(idToken: string | undefined): void {
  const callback = callbacks.getStore();
  if (callback) callback.idToken = idToken;
}

/**
 * Runs Auth.js's callback for `request`, and tells whether it failed because the session did not fit the cookie,
 * and the new session's ID token.
 */
export async function runCallback(
  request: NextRequest,
  callback: () => Promise<Response>,
): Promise<{ response: Response; tooLarge: boolean; idToken: string | undefined }> {
  const state: Callback = { authorizationError: request.nextUrl.searchParams.get("error"), tooLarge: false };
  const response = await callbacks.run(state, callback);
  return { response, tooLarge: state.tooLarge, idToken: state.idToken };
}

/** Written by Auth.js for a sign-in, of no use once it has succeeded. */
export const LEFTOVER_COOKIES: readonly string[] = [COOKIE_NAMES.callbackUrl, COOKIE_NAMES.csrf];

function parse(setCookie: string): CookieLike {
  const pair = setCookie.split(";", 1)[0] ?? "";
  const separator = pair.indexOf("=");
  return { name: pair.slice(0, separator), value: pair.slice(separator + 1) };
}

/**
 * `headers` (of the callback's answer) with the session, when it stores one, written by this app, its ID token in
 * the cookie of its own, and without Auth.js's writes of the leftover cookies; with their deletion once a session
 * is stored. `existing` are the cookies the browser sent.
 */
export async function finishSignIn(headers: Headers, existing: Iterable<CookieLike>, idToken?: string): Promise<Headers> {
  const written = headers.getSetCookie();
  const isSession = (setCookie: string) => isChunkOf(COOKIE_NAMES.session, parse(setCookie).name);
  const stored = written.filter(isSession).map(parse).filter((cookie) => cookie.value !== "");
  const sealed = joinChunks(COOKIE_NAMES.session, stored);
  const session = sealed === undefined ? null : await unsealSession(sealed);

  headers.delete("set-cookie");
  for (const setCookie of written) {
    const leftover = LEFTOVER_COOKIES.includes(parse(setCookie).name);
    if (!leftover && !(session && isSession(setCookie))) headers.append("set-cookie", setCookie);
  }
  if (session && sealed) {
    countSignIn("ok");
    for (const setCookie of sessionCookieWrites(sealed, new Date(session.expiresAt * 1000), existing).setCookies) headers.append("set-cookie", setCookie);
    const idTokenWrite = await idTokenCookie({ ...session, idToken });
    headers.append("set-cookie", idTokenWrite ?? ID_TOKEN_COOKIE_DELETION);
    for (const name of LEFTOVER_COOKIES) headers.append("set-cookie", cookieDeletion(name));
  }
  return headers;
}
