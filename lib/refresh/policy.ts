/**
 * When an access token should be refreshed. Pure: the clock is a parameter.
 *
 * A token is refreshed `maxSkew` seconds before it expires (60 by default), so a request never carries a
 * token that lapses on its way to the API; for very short tokens the skew shrinks to a quarter of the
 * lifetime, so a 4-second token is not refreshed on every request.
 */

export const DEFAULT_REFRESH_SKEW = 60;

/** The moment, in seconds since the epoch, at which a token received at `receivedAt` should be refreshed. */
export function refreshTime(receivedAt: number, expiresAt: number, maxSkew: number = DEFAULT_REFRESH_SKEW): number {
  const lifetime = Math.max(0, expiresAt - receivedAt);
  return expiresAt - Math.min(maxSkew, lifetime / 4);
}

export type Freshness = "fresh" | "due" | "expired";

export function freshness(session: { refreshAt: number; accessTokenExpiresAt: number }, nowSeconds: number): Freshness {
  if (nowSeconds >= session.accessTokenExpiresAt) return "expired";
  if (nowSeconds >= session.refreshAt) return "due";
  return "fresh";
}

/**
 * Seconds a session may stay unrefreshable, counted from its first refresh that the IdP did not answer: long
 * enough to ride out a blip (the session is kept, requests get 503 once its token has expired), short enough that
 * nobody waits out a long outage on error pages. Past it the session ends, and the user signs in again once the
 * IdP is back. Counted from the first failure, not from the token's expiry, so a user back from a long break is
 * not signed out by one slow answer.
 */
export const UNREFRESHABLE_LIMIT = 10 * 60;

/** Whether a session whose refreshes have failed for want of an IdP since `since` has been so for too long. */
export function unrefreshableTooLong(since: number, nowSeconds: number): boolean {
  return nowSeconds - since >= UNREFRESHABLE_LIMIT;
}

/** Whether a session can go on: its access token is current, or it holds a refresh token to get a new one. */
export function canGoOn(session: { accessTokenExpiresAt: number; refreshToken?: string }, nowSeconds: number): boolean {
  return nowSeconds < session.accessTokenExpiresAt || session.refreshToken !== undefined;
}

/**
 * How long a refresh's result is kept for the requests that still carry the cookie it replaced (in each
 * instance's memory, and in Redis for every instance): long enough for every request that left the browser with
 * the old cookie to arrive.
 */
export const GRACE_MS = 60_000;
