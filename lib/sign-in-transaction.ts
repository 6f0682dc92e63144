/**
 * The end of a sign-in, in the answer to the IdP's redirect back: Auth.js's cookies that only the sign-in needed
 * go once it has signed the user in.
 *
 * Auth.js deletes its PKCE, state and nonce cookies at the callback itself, but keeps `callback-url` (where to go
 * once signed in) and writes `csrf` (for its own sign-in and sign-out forms, which this app does not expose): some
 * 220 bytes that every later request would carry for as long as the browser runs. A callback that fails (a forged
 * link, a sign-in refused) leaves `callback-url` alone, so that the user's own sign-in still returns where it set
 * out for. Edge-safe and pure.
 */
import { COOKIE_NAMES, cookieDeletion, isChunkOf } from "./session-cookie";

/** Written by Auth.js for a sign-in, of no use once it has succeeded. */
export const LEFTOVER_COOKIES: readonly string[] = [COOKIE_NAMES.callbackUrl, COOKIE_NAMES.csrf];

const nameOf = (setCookie: string) => setCookie.slice(0, setCookie.indexOf("="));
const valueOf = (setCookie: string) => setCookie.slice(setCookie.indexOf("=") + 1).split(";", 1)[0];

/**
 * `headers` (of the callback's answer) without Auth.js's writes of the leftover cookies, and, when the answer
 * stores a session, with their deletion.
 */
export function deleteLeftoverCookies(headers: Headers): Headers {
  const written = headers.getSetCookie();
  const signedIn = written.some((setCookie) => isChunkOf(COOKIE_NAMES.session, nameOf(setCookie)) && valueOf(setCookie) !== "");
  headers.delete("set-cookie");
  for (const setCookie of written) if (!LEFTOVER_COOKIES.includes(nameOf(setCookie))) headers.append("set-cookie", setCookie);
  if (signedIn) for (const name of LEFTOVER_COOKIES) headers.append("set-cookie", cookieDeletion(name));
  return headers;
}
