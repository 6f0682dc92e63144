import type { RevocationQuery } from "./store";

interface CutOff {
  /** Epoch seconds; `null` (a session entry written before cut-offs existed) covers every token. */
  issuedUpTo: number | null;
  until: number;
}

/**
 * The revocation list held in memory, so that the check every request makes costs three map look-ups rather than
 * a query. It holds what its store hands it, entry by entry as stored (the store does the merging); an entry
 * whose `until` has passed covers nothing and goes at the next `prune`. Pure: the clock is a parameter.
 */
export class RevocationIndex {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, CutOff>();
  private readonly subjects = new Map<string, CutOff>();

  setToken(jti: string, until: number): void {
    this.tokens.set(jti, until);
  }

  setSession(sid: string, issuedUpTo: number | null, until: number): void {
    this.sessions.set(sid, { issuedUpTo, until });
  }

  setSubject(sub: string, issuedUpTo: number | null, until: number): void {
    this.subjects.set(sub, { issuedUpTo, until });
  }

  covers({ jti, sid, sub, iat }: RevocationQuery, nowSeconds: number): boolean {
    const tokenUntil = this.tokens.get(jti);
    if (tokenUntil !== undefined && tokenUntil > nowSeconds) return true;
    const session = sid === undefined ? undefined : this.sessions.get(sid);
    if (session !== undefined && cutOffCovers(session, iat, nowSeconds)) return true;
    const subject = this.subjects.get(sub);
    return subject !== undefined && cutOffCovers(subject, iat, nowSeconds);
  }

  prune(nowSeconds: number): void {
    for (const [jti, until] of this.tokens) if (until <= nowSeconds) this.tokens.delete(jti);
    for (const entries of [this.sessions, this.subjects]) {
      for (const [key, { until }] of entries) if (until <= nowSeconds) entries.delete(key);
    }
  }

  get size(): number {
    return this.tokens.size + this.sessions.size + this.subjects.size;
  }
}

function cutOffCovers({ issuedUpTo, until }: CutOff, iat: number, nowSeconds: number): boolean {
  return until > nowSeconds && (issuedUpTo === null || issuedUpTo >= iat);
}
