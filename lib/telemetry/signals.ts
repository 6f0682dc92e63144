/**
 * The web app's metrics: one place that names every instrument, its unit and its attributes, and one small
 * function per event that the code calls where the event happens. Edge-safe.
 *
 * Instruments exist only once `bindInstruments` has been called by the SDK's start (`sdk.ts`); until then, and
 * always with telemetry off (the default), each function returns at its first line. Attributes are few, fixed
 * words: never a token, cookie, code, user or URL.
 */
import type { Counter, Histogram, Meter } from "@opentelemetry/api";

/** How a sign-in ended (`finishSignIn` and Auth.js's error handler). */
export type SignInOutcome = "ok" | "idp_error" | "check_failed" | "id_token_rejected" | "failed";

/**
 * What became of a due refresh: `refreshed` at the IdP by this request; `joined` another request's refresh in
 * flight; `grace_cache`, a refresh a moment ago served again; `superseded`, an older cookie brought forward to the
 * newest session; `idp_refused` (with the IdP's error class), `idp_unreachable`, `coordination_unavailable`.
 */
export type RefreshOutcome = "refreshed" | "joined" | "grace_cache" | "superseded" | "idp_refused" | "idp_unreachable" | "coordination_unavailable";

export type IdpEndpoint = "token" | "revocation" | "discovery" | "jwks";

interface Instruments {
  signIns: Counter;
  refreshes: Counter;
  idpDuration: Histogram;
  apiDuration: Histogram;
  endedSessionRefusals: Counter;
  antiForgeryRefusals: Counter;
  cookieSize: Histogram;
  backChannelLogouts: Counter;
}

// Next.js bundles this module into the instrumentation hook and into each route apart: the instruments the SDK's
// start binds must be found by every copy, so they live on globalThis.
const INSTRUMENTS = Symbol.for("tessera.telemetry.instruments");
const bound = globalThis as { [INSTRUMENTS]?: Instruments };

/** Durations in seconds: buckets from 5 ms to 10 s, where an IdP or API call lives. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function bindInstruments(meter: Meter): void {
  const duration = (name: string, description: string) =>
    meter.createHistogram(name, { unit: "s", description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
  bound[INSTRUMENTS] = {
    signIns: meter.createCounter("tessera.sign_ins", { unit: "{sign-in}", description: "Sign-ins finished, by outcome" }),
    refreshes: meter.createCounter("tessera.refreshes", { unit: "{refresh}", description: "Due access-token refreshes, by outcome" }),
    idpDuration: duration("tessera.idp.request.duration", "Calls to the IdP, by endpoint"),
    apiDuration: duration("tessera.api.client.request.duration", "Calls forwarded to the API, by route and status"),
    endedSessionRefusals: meter.createCounter("tessera.session.ended_refusals", { unit: "{request}", description: "Requests refused because their session was ended" }),
    antiForgeryRefusals: meter.createCounter("tessera.anti_forgery.refusals", { unit: "{request}", description: "Data requests refused by the anti-forgery check" }),
    cookieSize: meter.createHistogram("tessera.session.cookie.size", {
      unit: "By",
      description: "Size of the session cookie written, all chunks",
      advice: { explicitBucketBoundaries: [512, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288] },
    }),
    backChannelLogouts: meter.createCounter("tessera.backchannel_logout.tokens", { unit: "{token}", description: "Back-channel logout tokens, accepted or refused by reason" }),
  };
}

/** Forgets the instruments (the SDK's shutdown, and tests). */
export function unbindInstruments(): void {
  delete bound[INSTRUMENTS];
}

export function countSignIn(outcome: SignInOutcome): void {
  bound[INSTRUMENTS]?.signIns.add(1, { "tessera.outcome": outcome });
}

/** `errorClass`: the IdP's OAuth error code for `idp_refused`, already checked to be a short word. */
export function countRefresh(outcome: RefreshOutcome, errorClass?: string): void {
  bound[INSTRUMENTS]?.refreshes.add(1, errorClass ? { "tessera.outcome": outcome, "error.type": errorClass } : { "tessera.outcome": outcome });
}

/** `status`: the HTTP status of the answer, or `undefined` when there was none (`error.type` says why). */
export function recordIdpCall(endpoint: IdpEndpoint, seconds: number, status: number | undefined, errorType?: string): void {
  bound[INSTRUMENTS]?.idpDuration.record(seconds, {
    "tessera.idp.endpoint": endpoint,
    ...(status === undefined ? {} : { "http.response.status_code": status }),
    ...(errorType ? { "error.type": errorType } : {}),
  });
}

/** `route`: the data route's own pattern (`/api/notes/[id]`), never the path with its values. */
export function recordApiCall(route: string, method: string, seconds: number, status: number | undefined, errorType?: string): void {
  bound[INSTRUMENTS]?.apiDuration.record(seconds, {
    "http.route": route,
    "http.request.method": method,
    ...(status === undefined ? {} : { "http.response.status_code": status }),
    ...(errorType ? { "error.type": errorType } : {}),
  });
}

export function countEndedSessionRefusal(): void {
  bound[INSTRUMENTS]?.endedSessionRefusals.add(1);
}

export function countAntiForgeryRefusal(reason: string): void {
  bound[INSTRUMENTS]?.antiForgeryRefusals.add(1, { "tessera.reason": reason });
}

/** The session cookie's chunks as written: their `name=value` bytes, as the browser sends them back. */
export function recordCookieSize(chunks: readonly { name: string; value: string }[]): void {
  bound[INSTRUMENTS]?.cookieSize.record(chunks.reduce((bytes, { name, value }) => bytes + name.length + 1 + value.length, 0));
}

export function countBackChannelLogout(outcome: "accepted" | "refused", reason?: string): void {
  bound[INSTRUMENTS]?.backChannelLogouts.add(1, reason ? { "tessera.outcome": outcome, "tessera.reason": reason } : { "tessera.outcome": outcome });
}

/** Whether metrics have started in this runtime: the cheap check a path that measures time makes first. */
export function telemetryOn(): boolean {
  return bound[INSTRUMENTS] !== undefined;
}
