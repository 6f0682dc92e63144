/**
 * The app's one refresher: `keepFresh` wired to the configured IdP, with a process-wide single-flight.
 * Under `next start` the edge middleware keeps module state between requests, so every request of this
 * instance shares the in-flight map and the grace cache. Edge-safe.
 */
import { getConfig } from "./config";
import { idpMetadata } from "./idp";
import { createKeepFresh, type KeepFreshResult } from "./keep-fresh";
import type { Session } from "./session";
import { createSingleFlight } from "./single-flight";
import { refreshSession } from "./token-refresh";

/** Long enough for every request that left the browser with the old cookie to arrive. */
const GRACE_MS = 60_000;

let keepFresh: ((session: Session) => Promise<KeepFreshResult>) | undefined;

export function keepSessionFresh(session: Session): Promise<KeepFreshResult> {
  if (!keepFresh) {
    const { issuer, clientId, clientSecret, idpTimeoutMs, refreshSkew } = getConfig();
    keepFresh = createKeepFresh({
      refresh: (current) => refreshSession(current, { metadata: idpMetadata, issuer, clientId, clientSecret, timeoutMs: idpTimeoutMs, refreshSkew }),
      flights: createSingleFlight<Session>({ graceMs: GRACE_MS }),
      nowSeconds: () => Date.now() / 1000,
    });
  }
  return keepFresh(session);
}
