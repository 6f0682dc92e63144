import { hash } from "node:crypto";
import { countCacheLookup } from "../telemetry/signals";
import { annotateCacheResult } from "../telemetry/tracing";
import type { AccessToken } from "./access-token";

export interface VerificationCacheOptions {
  /** When there are this many, the entry stored first goes to make room. */
  maxEntries?: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

/**
 * Remembers successful verifications until the token's `exp`, so a token seen before costs a hash rather than a
 * signature check. Only the signature and claims work is cached: the revocation list is consulted by the caller on
 * every request. Keys the IdP withdraws stop being trusted for new tokens at once and for cached ones at their `exp`.
 * Entries are keyed by a SHA-256 digest, so the cache never holds a usable token.
 *
 * A hit is answered at once, not with a promise, and writes nothing. When the cache is full the entry stored first
 * goes: an issuer gives its access tokens one lifetime, so the first stored is mostly the first to expire anyway.
 */
export function createVerificationCache(
  verify: (token: string) => Promise<AccessToken>,
  { maxEntries = 10_000, now = Date.now }: VerificationCacheOptions = {},
): (token: string) => AccessToken | Promise<AccessToken> {
  // A Map iterates in insertion order, so its first key is the entry stored first.
  const entries = new Map<string, AccessToken>();

  const verifyAndStore = async (token: string, key: string) => {
    // Failures are not cached: an unknown key or an unreachable IdP may be fixed by the next request.
    const verified = await verify(token);
    // Two requests may have verified the same token at once: the second replaces the first, and takes no room.
    if (!entries.has(key) && entries.size >= maxEntries) {
      const first = entries.keys().next();
      if (!first.done) entries.delete(first.value);
    }
    entries.set(key, verified);
    return verified;
  };

  return (token) => {
    // The one-shot digest: about half the cost of createHash() for a token-sized input.
    const key = hash("sha256", token, "base64url");
    const cached = entries.get(key);
    if (cached !== undefined) {
      if (now() < cached.exp * 1000) {
        countCacheLookup(true);
        annotateCacheResult(true);
        return cached;
      }
      entries.delete(key);
    }
    countCacheLookup(false);
    annotateCacheResult(false);
    return verifyAndStore(token, key);
  };
}
