/**
 * One refresh per refresh token across every instance, through Redis: the work behind the internal route
 * (`lib/refresh/coordination-link.ts` says how the middleware reaches it). Node runtime only.
 *
 * For a session whose refresh is due, in order:
 * 1. Refuse a session already on the list of ended sessions: a sign-out on another instance wins.
 * 2. Claim, in one Redis step: a result another instance published for this refresh token (adopt it); a mark
 *    that the token is spent (never send it again: 401, the grant left alive); the lock (lead); or wait.
 * 3. Lead: refresh at the IdP, check the list of ended sessions again (a sign-out that raced the refresh ends it:
 *    the new refresh token is revoked, never published), then publish, in one Redis step, the sealed result for
 *    the grace period, the spent mark for as long as the old cookie could be presented, and release the lock.
 *    A refusal is published as a spent mark too (it ends the session); an IdP that did not answer only releases
 *    the lock.
 * 4. Follow: poll for the leader's result, and take over the lock if the leader vanished; give up, 503, after
 *    the follow deadline.
 * Every Redis call keeps the client's deadline (`lib/server/redis.ts`). Any failure to reach Redis is
 * `coordination_unavailable`, before the IdP is asked: a refresh is never made uncoordinated.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { RefreshError, type RefreshErrorCode } from "@/lib/idp/token-refresh";
import { logError } from "@/lib/log";
import { isRefreshErrorCode, sessionFromWire, sessionToWire } from "@/lib/refresh/coordination-link";
import { GRACE_MS } from "@/lib/refresh/policy";
import type { Session } from "@/lib/session/session";
import { openResult, resultKeys, sealResult, type ResultKeys } from "./sealed-result";
import { countEndedSessionRefusal, countRefresh } from "@/lib/telemetry/signals";

export interface CoordinatorOptions {
  redis: Redis;
  /** The newest `AUTH_SECRET`: every instance must have the same. */
  secret: string;
  /** The refresh at the IdP. */
  refresh: (session: Session) => Promise<Session>;
  /** Whether the session is on the list of ended sessions (it may throw: Redis is down). */
  isEnded: (session: Session) => Promise<boolean>;
  /** Revokes a refresh token minted for a session that ended while it was refreshed. */
  discard: (refreshToken: string) => Promise<void>;
  leaseMs: number;
  followMs: number;
  pollMs?: number;
  now?: () => number;
}

const PREFIX = "tessera:web:refresh:";
/**
 * A refresh token's three keys, `[result, spent, lock]`, named by its keyed hash. The hash tag keeps them in one
 * slot, so the scripts also run on a Redis Cluster.
 */
export const coordinationKeys = ({ id }: Pick<ResultKeys, "id">) => [`${PREFIX}{${id}}:result`, `${PREFIX}{${id}}:spent`, `${PREFIX}{${id}}:lock`];

// KEYS: result, spent, lock. ARGV: the caller's lock owner id, the lease in milliseconds.
const CLAIM = `
local result = redis.call('GET', KEYS[1])
if result then return {'result', result} end
local spent = redis.call('GET', KEYS[2])
if spent then return {'spent', spent} end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'lead'} end
return {'wait'}
`;
// KEYS: result, spent, lock. ARGV: owner, sealed result or '', its ms to live, spent mark or '', its ms to live.
// A "rotated" mark is never replaced: a leader that took over a lapsed lease and was refused must not shorten it.
const SETTLE = `
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= 'rotated' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
`;

/** The spent mark of a rotated token; a refusal's mark is its code. */
const ROTATED = "rotated";

type Claim = ["result", string] | ["spent", string] | ["lead"] | ["wait"];

export function createCoordinator({ redis, secret, refresh, isEnded, discard, leaseMs, followMs, pollMs = 50, now = Date.now }: CoordinatorOptions) {
  const unavailable = (what: string, cause: unknown) => new RefreshError("coordination_unavailable", `Redis did not answer ${what}`, { cause });
  const ask = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw unavailable(what, error);
    }
  };
  const settle = (keys: string[], owner: string, result: { sealed: string; ms: number } | undefined, spent: { mark: string; ms: number } | undefined) =>
    redis.eval(SETTLE, 3, ...keys, owner, result?.sealed ?? "", Math.ceil(result?.ms ?? 0), spent?.mark ?? "", Math.ceil(spent?.ms ?? 0));

  const adopt = (keys: ResultKeys, sealed: string): Session => {
    const opened = openResult(keys, sealed);
    const successor = opened === null ? null : sessionFromWire(JSON.parse(opened));
    if (!successor) throw new RefreshError("refresh_token_spent", "Another instance's result for this refresh token could not be opened");
    return successor;
  };

  const spentError = (mark: string): RefreshError => {
    const code: RefreshErrorCode = isRefreshErrorCode(mark) ? mark : "refresh_token_spent";
    return code === "refresh_token_spent"
      ? new RefreshError(code, "The refresh token was already rotated, and its successor is no longer known: it is not sent again")
      : new RefreshError(code, `Another instance's refresh with this refresh token ended in ${code}: it is not sent again`);
  };

  async function lead(session: Session, refreshToken: string, keys: ResultKeys, names: string[], owner: string): Promise<Session> {
    const untilSessionEnds = () => Math.max(1_000, session.expiresAt * 1000 - now());
    let successor: Session;
    try {
      successor = await refresh(session);
    } catch (error) {
      // A refusal ends the session, so its refresh token is never to be sent again (after an unusable 200 the IdP
      // has spent it already); an IdP that did not answer leaves it to the next request.
      const refused = error instanceof RefreshError && error.code !== "idp_unreachable" ? error.code : undefined;
      await settle(names, owner, undefined, refused && { mark: refused, ms: untilSessionEnds() }).catch((settling: unknown) =>
        logError("refresh", "could not share a failed refresh with the other instances", settling),
      );
      throw error;
    }
    const rotated = successor.refreshToken !== refreshToken;

    // The IdP has already rotated the token: when the list cannot be read, the result is published and handed
    // over all the same, or the rotated token would be sent again. Every read of the session checks the list
    // again, so that revives nothing.
    const endedMeanwhile = await isEnded(session).catch((error: unknown) => {
      logError("refresh", "could not check the list of ended sessions after a refresh; publishing its result", error);
      return false;
    });
    if (endedMeanwhile) {
      if (rotated && successor.refreshToken) await discard(successor.refreshToken);
      await ask("to settle an ended session's refresh", () => settle(names, owner, undefined, { mark: "session_ended", ms: untilSessionEnds() }));
      throw new RefreshError("session_ended", "The session was signed out while it was being refreshed");
    }

    // A token that did not rotate stays usable: its result serves only while the new access token is fresh.
    const result = { sealed: sealResult(keys, JSON.stringify(sessionToWire(successor))), ms: rotated ? GRACE_MS : Math.max(1_000, successor.refreshAt * 1000 - now()) };
    try {
      await settle(names, owner, result, rotated ? { mark: ROTATED, ms: untilSessionEnds() } : undefined);
    } catch (error) {
      logError("refresh", "could not publish a refresh's result to the other instances", error);
    }
    return successor;
  }

  /**
   * Counted in `tessera.refreshes` as the middleware counts on one instance: a result published a moment ago serves
   * like the grace cache, one waited for is joined, a rotated token presented again is superseded; the leader's
   * refresh counts itself, and a refusal is counted once, there, as one instance counts a refusal it remembers.
   */
  return async function coordinate(session: Session): Promise<Session> {
    try {
      return await claimAndFollow(session);
    } catch (error) {
      if (error instanceof RefreshError && error.code === "coordination_unavailable") countRefresh("coordination_unavailable");
      if (error instanceof RefreshError && error.code === "session_ended") countEndedSessionRefusal();
      throw error;
    }
  };

  async function claimAndFollow(session: Session): Promise<Session> {
    const refreshToken = session.refreshToken;
    if (!refreshToken) throw new RefreshError("invalid_grant", "The session has no refresh token");
    if (await ask("the list of ended sessions", () => isEnded(session))) {
      throw new RefreshError("session_ended", "The session was signed out before its refresh");
    }
    const keys = resultKeys(secret, refreshToken);
    const names = coordinationKeys(keys);
    const owner = randomUUID();
    const giveUpAt = now() + followMs;
    for (let waited = false; ; waited = true) {
      const claim = (await ask("to claim the refresh", () => redis.eval(CLAIM, 3, ...names, owner, leaseMs))) as Claim;
      if (claim[0] === "result") {
        const successor = adopt(keys, claim[1]);
        countRefresh(waited ? "joined" : "grace_cache");
        return successor;
      }
      if (claim[0] === "spent") {
        const error = spentError(claim[1]);
        // A rotated token presented again; a refusal's mark was counted once, by the instance the IdP refused.
        if (error.code === "refresh_token_spent") countRefresh("superseded");
        throw error;
      }
      if (claim[0] === "lead") return lead(session, refreshToken, keys, names, owner);
      if (now() >= giveUpAt) throw new RefreshError("coordination_unavailable", `Another instance's refresh did not finish within ${followMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
