/**
 * The end of a sign-in, in the answer to the IdP's redirect back: Auth.js's cookies that only the sign-in needed
 * are deleted there.
 *
 * Auth.js deletes its PKCE, state and nonce cookies at the callback itself, but keeps `callback-url` (where to go
 * once signed in) and `csrf` (for its own sign-in and sign-out forms, which this app does not expose): some 220
 * bytes that every later request would carry for as long as the browser runs. Edge-safe and pure.
 */
import { COOKIE_NAMES, cookieDeletion } from "./session-cookie";

/** Written by Auth.js when sign-in starts, of no use once its callback has answered. */
export const LEFTOVER_COOKIES: readonly string[] = [COOKIE_NAMES.callbackUrl, COOKIE_NAMES.csrf];

/** `headers` (of the callback's answer) with any write of a leftover cookie replaced by its deletion. */
export function deleteLeftoverCookies(headers: Headers): Headers {
  const leftover = (setCookie: string) => LEFTOVER_COOKIES.some((name) => setCookie.startsWith(`${name}=`));
  const kept = headers.getSetCookie().filter((setCookie) => !leftover(setCookie));
  headers.delete("set-cookie");
  for (const setCookie of kept) headers.append("set-cookie", setCookie);
  for (const name of LEFTOVER_COOKIES) headers.append("set-cookie", cookieDeletion(name));
  return headers;
}
