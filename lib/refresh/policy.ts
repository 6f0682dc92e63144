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
