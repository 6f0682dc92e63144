/**
 * Opened session cookies, remembered by a digest of the sealed value: a request whose cookie was opened before
 * costs one SHA-256 rather than an AES-GCM decryption through Web Crypto and a parse. Node runtime only.
 *
 * It holds nothing the process could not recompute from a cookie and AUTH_SECRET, which it holds anyway. A hit
 * is the very cookie opened before (a tampered one digests differently and is opened, and refused, afresh); it
 * serves until its session's end, checked on every hit. Failures are not remembered. The least recently used
 * entry goes first.
 */
import { hash } from "node:crypto";
import type { Session } from "@/lib/session/session";

export interface OpenedSessionsOptions {
  maxEntries?: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

export function rememberOpenedSessions(
  open: (sealed: string) => Promise<Session | null>,
  { maxEntries = 5_000, now = Date.now }: OpenedSessionsOptions = {},
): (sealed: string) => Promise<Session | null> {
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used first.
  const entries = new Map<string, Session>();

  return async (sealed) => {
    const key = hash("sha256", sealed, "base64url");
    const known = entries.get(key);
    if (known !== undefined) {
      entries.delete(key);
      if (now() < known.expiresAt * 1000) {
        entries.set(key, known);
        return known;
      }
    }
    const session = await open(sealed);
    if (session === null) return null;
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(key, session);
    return session;
  };
}
