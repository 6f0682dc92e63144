/**
 * Keeps a session's access token fresh: the decision the middleware makes on every matched request.
 *
 * Refreshes go through a single-flight keyed by a hash of the refresh token, so concurrent requests
 * with the same session cause one token-endpoint call, and requests that still carry the old cookie
 * get the rotated result instead of replaying a spent refresh token (which makes an IdP revoke the
 * whole grant). A session that a grace entry has already replaced is followed to its newest
 * successor, so a stale cookie is brought forward rather than written back.
 *
 * `keepSessionFresh` is the app's one refresher: `createKeepFresh` wired to the configured IdP (through the
 * coordination across instances, with `REDIS_URL`), with a process-wide single-flight as its first layer. Under `next start` the edge middleware keeps module state between requests, so
 * every request of this instance shares the in-flight map and the grace cache. Edge-safe.
 */
import { base64url } from "jose";
import { SERVICE_RETRY_AFTER_SECONDS } from "@/lib/http/json";
import { RefreshError } from "@/lib/idp/token-refresh";
import { getConfig } from "@/lib/config";
import type { Session } from "@/lib/session/session";
import { countRefresh } from "@/lib/telemetry/signals";
import { coordinatedRefresh, coordinationDeadlines } from "./coordination-link";
import { idpRefresh } from "./idp-refresh";
import { freshness, GRACE_MS, unrefreshableTooLong } from "./policy";
import { createSingleFlight, type SingleFlight } from "./single-flight";

export type KeepFreshResult =
  /** The access token is good; nothing to write. */
  | { kind: "fresh"; session: Session }
  /** A newer session exists (refreshed now, or a moment ago by a concurrent request): write it. */
  | { kind: "refreshed"; session: Session }
  /** A refresh was due but the IdP could not be reached; the current token is still valid, so use it. */
  | { kind: "degraded"; session: Session; changed: boolean; error: RefreshError }
  /** The IdP refused the refresh (or has not answered it for `UNREFRESHABLE_LIMIT`): the session is over. */
  | { kind: "ended"; error: RefreshError }
  /**
   * Keep the cookie and answer 503: the access token has expired and the IdP cannot be reached
   * (`idp_unreachable`), or a due refresh cannot be coordinated across instances (`coordination_unavailable`).
   */
  | { kind: "unavailable"; error: RefreshError };

export interface KeepFreshOptions {
  refresh: (session: Session) => Promise<Session>;
  flights: SingleFlight<Session>;
  nowSeconds: () => number;
}

/** A grace entry can itself have been refreshed; a few hops cover any realistic chain. */
const MAX_HOPS = 3;

async function flightKey(refreshToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(refreshToken));
  return base64url.encode(new Uint8Array(digest));
}

/** Sessions whose refreshes are failing for want of an IdP, remembered at most; the oldest go first. */
const MAX_UNREACHABLE = 10_000;

export function createKeepFresh({ refresh, flights, nowSeconds }: KeepFreshOptions) {
  // Since when each session's refresh (by flight key) has failed for want of an IdP; any answer clears it.
  const unreachableSince = new Map<string, number>();
  const firstFailure = (key: string): number => {
    const since = unreachableSince.get(key);
    if (since !== undefined) return since;
    if (unreachableSince.size >= MAX_UNREACHABLE) unreachableSince.delete(unreachableSince.keys().next().value!);
    unreachableSince.set(key, nowSeconds());
    return nowSeconds();
  };

  return async function keepFresh(session: Session): Promise<KeepFreshResult> {
    let current = session;
    for (let hop = 0; hop < MAX_HOPS && freshness(current, nowSeconds()) !== "fresh"; hop += 1) {
      const refreshToken = current.refreshToken;
      if (!refreshToken) break;
      const from = current;
      const key = await flightKey(refreshToken);
      try {
        // A remembered session with a rotated refresh token is followed (next hop); one with the same refresh
        // token (an IdP that does not rotate) serves only while fresh, or it would come back until it expired.
        const usable = (remembered: Session) => remembered.refreshToken !== refreshToken || freshness(remembered, nowSeconds()) === "fresh";
        current = await flights.run(key, () => refresh(from), usable);
        unreachableSince.delete(key);
      } catch (cause) {
        const error = cause instanceof RefreshError ? cause : new RefreshError("invalid_response", "The refresh failed", { cause });
        // Without Redis nobody may refresh: not even on a token still valid, which another instance may be
        // refreshing now. Nothing is counted against the session: the IdP was not asked.
        if (error.code === "coordination_unavailable") return { kind: "unavailable", error };
        // Only an IdP that did not answer, or said "not now", leaves the grant alive; any other refusal ends it.
        if (error.code !== "idp_unreachable") {
          unreachableSince.delete(key);
          return { kind: "ended", error };
        }
        const since = firstFailure(key);
        if (freshness(current, nowSeconds()) !== "expired") return { kind: "degraded", session: current, changed: current !== session, error };
        if (!unrefreshableTooLong(since, nowSeconds())) return { kind: "unavailable", error };
        unreachableSince.delete(key);
        const failingFor = Math.floor(nowSeconds() - since);
        return {
          kind: "ended",
          error: new RefreshError("idp_unreachable", `The IdP has not answered this session's refresh for ${failingFor} s: ${error.message}`, { cause: error }),
        };
      }
    }
    if (freshness(current, nowSeconds()) === "expired") {
      return { kind: "ended", error: new RefreshError("invalid_grant", "The access token expired and there is no refresh token") };
    }
    return current === session ? { kind: "fresh", session } : { kind: "refreshed", session: current };
  };
}

/** While the IdP cannot be reached, one attempt per session this often; the unavailable page says when to retry. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * How long a refresh's failure stands for every request with the same refresh token: an unreachable IdP is asked
 * again after RETRY_AFTER_SECONDS, Redis after SERVICE_RETRY_AFTER_SECONDS; a refusal stands for the grace period, so that the dead refresh token is not
 * sent again by the requests still on their way with the old cookie.
 */
export function refreshFailureMemory(error: unknown): number {
  if (!(error instanceof RefreshError)) return 0;
  if (error.code === "idp_unreachable") return RETRY_AFTER_SECONDS * 1000;
  if (error.code === "coordination_unavailable") return SERVICE_RETRY_AFTER_SECONDS * 1000;
  return GRACE_MS;
}

let keepFresh: ((session: Session) => Promise<KeepFreshResult>) | undefined;

/**
 * One instance refreshes at the IdP itself; with `REDIS_URL`, every instance hands its refreshes to the
 * coordination that makes them one across instances (see `coordination-link.ts`).
 */
function configuredRefresh(): (session: Session) => Promise<Session> {
  const { redisUrl, internalUrl, authSecrets, idpTimeoutMs } = getConfig();
  if (redisUrl) return coordinatedRefresh({ internalUrl, authSecret: authSecrets[0], timeoutMs: coordinationDeadlines(idpTimeoutMs).requestMs });
  return idpRefresh();
}

export function keepSessionFresh(session: Session): Promise<KeepFreshResult> {
  keepFresh ??= createKeepFresh({
    refresh: configuredRefresh(),
    flights: createSingleFlight<Session>({
      graceMs: GRACE_MS,
      rememberFailure: refreshFailureMemory,
      onShared: (how) => countRefresh(how === "in_flight" ? "joined" : "grace_cache"),
    }),
    nowSeconds: () => Date.now() / 1000,
  });
  return keepFresh(session);
}
