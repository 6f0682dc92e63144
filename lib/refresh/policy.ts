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
 * Seconds a session may go on past its access token's expiry while the IdP cannot be reached to refresh it: long
 * enough to ride out a blip (the session is kept, requests get 503), short enough that nobody waits out a long
 * outage on error pages. Past it the session ends, and the user signs in again once the IdP is back.
 */
export const UNREFRESHABLE_LIMIT = 10 * 60;

/** Whether the session's access token expired so long ago that an unreachable IdP ends it (`UNREFRESHABLE_LIMIT`). */
export function unrefreshableTooLong(session: { accessTokenExpiresAt: number }, nowSeconds: number): boolean {
  return nowSeconds >= session.accessTokenExpiresAt + UNREFRESHABLE_LIMIT;
}

/** Whether a session can go on: its access token is current, or it holds a refresh token to get a new one. */
export function canGoOn(session: { accessTokenExpiresAt: number; refreshToken?: string }, nowSeconds: number): boolean {
  return nowSeconds < session.accessTokenExpiresAt || session.refreshToken !== undefined;
}
