import { hash } from "node:crypto";
import type { AccessToken } from "./access-token";

export interface VerificationCacheOptions {
  /** Most recently used entries are kept; the least recently used goes first. */
  maxEntries?: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

/**
 * Remembers successful verifications until the token's `exp`, so a token seen before costs a hash rather than a
 * signature check. Only the signature and claims work is cached: the revocation list is consulted by the caller on
 * every request. Keys the IdP withdraws stop being trusted for new tokens at once and for cached ones at their `exp`.
 * Entries are keyed by a SHA-256 digest, so the cache never holds a usable token.
 */
export function createVerificationCache(
  verify: (token: string) => Promise<AccessToken>,
  { maxEntries = 10_000, now = Date.now }: VerificationCacheOptions = {},
): (token: string) => Promise<AccessToken> {
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used first.
  const entries = new Map<string, AccessToken>();

  return async (token) => {
    // The one-shot digest: about half the cost of createHash() for a token-sized input.
    const key = hash("sha256", token, "base64url");
    const cached = entries.get(key);
    if (cached !== undefined) {
      entries.delete(key);
      if (now() < cached.exp * 1000) {
        entries.set(key, cached);
        return cached;
      }
    }
    // Failures are not cached: an unknown key or an unreachable IdP may be fixed by the next request.
    const verified = await verify(token);
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(key, verified);
    return verified;
  };
}
