/**
 * The API's metrics. Every function returns at once while no meter is bound (telemetry off, the default), so the
 * counting points in the request path cost a comparison and nothing else; `startTelemetry` binds them.
 *
 * | name                                     | type      | unit      | attributes                                              |
 * | ---------------------------------------- | --------- | --------- | ------------------------------------------------------- |
 * | `tessera.api.token.verifications`        | counter   | `{token}` | `tessera.outcome` accepted/refused, `tessera.reason`     |
 * | `tessera.api.verification_cache.lookups` | counter   | `{lookup}`| `tessera.cache.result` hit/miss                          |
 * | `tessera.api.revocation.hits`            | counter   | `{token}` |                                                         |
 * | `tessera.api.jwks.fetches`               | counter   | `{fetch}` | `tessera.outcome` ok/failed                              |
 * | `tessera.api.backchannel_logout.tokens`  | counter   | `{token}` | `tessera.outcome` accepted/refused, `tessera.reason`     |
 * | `http.server.request.duration`           | histogram | `s`       | `http.request.method`, `http.route`, `http.response.status_code` |
 *
 * `tessera.reason` (on refusals only) is one of a fixed set (`reasons.ts`). No attribute ever carries a token, a
 * subject, a session, a path or a header.
 */
import type { Attributes, Counter, Histogram, Meter } from "@opentelemetry/api";
import { boundedReason, type RefusalReason } from "./reasons";

interface Instruments {
  tokenVerifications: Counter;
  cacheLookups: Counter;
  revocationHits: Counter;
  jwksFetches: Counter;
  logoutTokens: Counter;
  requestDuration: Histogram;
}

let instruments: Instruments | undefined;

// The semantic conventions' advice for http.server.request.duration, in seconds.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const ACCEPTED: Attributes = { "tessera.outcome": "accepted" };
const HIT: Attributes = { "tessera.cache.result": "hit" };
const MISS: Attributes = { "tessera.cache.result": "miss" };
const FETCH_OK: Attributes = { "tessera.outcome": "ok" };
const FETCH_FAILED: Attributes = { "tessera.outcome": "failed" };
const refused = (reason: RefusalReason): Attributes => ({ "tessera.outcome": "refused", "tessera.reason": boundedReason(reason) });

/** Creates the instruments on `meter` and turns counting on. */
export function bindInstruments(meter: Meter): void {
  instruments = {
    tokenVerifications: meter.createCounter("tessera.api.token.verifications", {
      unit: "{token}",
      description: "Bearer tokens judged, by outcome; refusals by reason.",
    }),
    cacheLookups: meter.createCounter("tessera.api.verification_cache.lookups", {
      unit: "{lookup}",
      description: "Look-ups in the cache of verified tokens, by result: the hit ratio is hits over all.",
    }),
    revocationHits: meter.createCounter("tessera.api.revocation.hits", {
      unit: "{token}",
      description: "Tokens refused because the revocation list names their jti, session or subject.",
    }),
    jwksFetches: meter.createCounter("tessera.api.jwks.fetches", {
      unit: "{fetch}",
      description: "Fetches of the issuer's JWKS, by outcome.",
    }),
    logoutTokens: meter.createCounter("tessera.api.backchannel_logout.tokens", {
      unit: "{token}",
      description: "Back-channel logout tokens relayed to the API, by outcome; refusals by reason.",
    }),
    requestDuration: meter.createHistogram("http.server.request.duration", {
      unit: "s",
      description: "Duration of HTTP server requests.",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
}

/** Turns counting off again (at shutdown). */
export function unbindInstruments(): void {
  instruments = undefined;
}

/** Whether metrics are being recorded. */
export const measuring = (): boolean => instruments !== undefined;

/** A bearer token got through: verified and not revoked. */
export function countTokenAccepted(): void {
  if (instruments === undefined) return;
  instruments.tokenVerifications.add(1, ACCEPTED);
}

/** A bearer token was refused (or could not be judged), for `reason`. */
export function countTokenRefused(reason: RefusalReason): void {
  if (instruments === undefined) return;
  instruments.tokenVerifications.add(1, refused(reason));
}

export function countCacheLookup(hit: boolean): void {
  if (instruments === undefined) return;
  instruments.cacheLookups.add(1, hit ? HIT : MISS);
}

/** A token refused because the revocation list names it. */
export function countRevocationHit(): void {
  if (instruments === undefined) return;
  instruments.revocationHits.add(1);
}

export function countJwksFetch(ok: boolean): void {
  if (instruments === undefined) return;
  instruments.jwksFetches.add(1, ok ? FETCH_OK : FETCH_FAILED);
}

export function countLogoutTokenAccepted(): void {
  if (instruments === undefined) return;
  instruments.logoutTokens.add(1, ACCEPTED);
}

export function countLogoutTokenRefused(reason: RefusalReason): void {
  if (instruments === undefined) return;
  instruments.logoutTokens.add(1, refused(reason));
}

/** One request answered: `route` is the matched route's pattern (`/notes/:id`), absent when none matched. */
export function recordRequestDuration(seconds: number, method: string, route: string | undefined, status: number): void {
  if (instruments === undefined) return;
  const attributes: Attributes = { "http.request.method": method, "http.response.status_code": status };
  if (route !== undefined) attributes["http.route"] = route;
  instruments.requestDuration.record(seconds, attributes);
}
