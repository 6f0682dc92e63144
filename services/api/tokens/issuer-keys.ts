import type { FetchImplementation } from "jose";
import { createKeySet, type KeySet } from "./key-set";
import type { KeyResolver } from "./signed-token";
import type { Logger } from "../logger";

export interface IssuerKeysOptions {
  issuer: string;
  log: Logger;
  fetch?: FetchImplementation;
  /** Bound on every outbound request (discovery and JWKS). */
  timeoutMs?: number;
  /** After a failed discovery, requests fail fast for this long instead of each calling the IdP. */
  retryAfterMs?: number;
  /** The JWKS fetch budget: at most one fetch per this many milliseconds (see `key-set.ts`). */
  minFetchIntervalMs?: number;
  /** How often the JWKS is re-read in the background, so keys the IdP withdraws stop being trusted. */
  refreshIntervalMs?: number;
  now?: () => number;
  /** Waits for the next JWKS fetch's turn. */
  sleep?: (ms: number) => Promise<void>;
}

export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
}

function jwksUriOf(metadata: unknown, issuer: string): URL {
  if (typeof metadata !== "object" || metadata === null) throw new DiscoveryError("discovery document is not an object");
  const { issuer: discovered, jwks_uri: jwksUri } = metadata as Record<string, unknown>;
  // OpenID Connect Discovery 1.0 section 4.3: a mismatch means the document is not this issuer's.
  if (discovered !== issuer) throw new DiscoveryError(`discovery names issuer ${JSON.stringify(discovered)}`);
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) throw new DiscoveryError("discovery has no valid jwks_uri");
  const url = new URL(jwksUri);
  const allowed = new URL(issuer).protocol === "https:" ? ["https:"] : ["https:", "http:"];
  if (!allowed.includes(url.protocol)) throw new DiscoveryError(`jwks_uri scheme ${url.protocol} not allowed`);
  return url;
}

/**
 * The issuer's signing keys, found through OpenID Connect Discovery on first use rather than at start-up,
 * so the API runs while the IdP is down and starts verifying once it is up.
 */
/** The issuer's keys, and `ready`, which resolves once they have been found (for the API's readiness). */
export type IssuerKeys = KeyResolver & { ready(): Promise<void> };

export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const {
    issuer,
    log,
    fetch: fetchImpl = fetch,
    timeoutMs = 5_000,
    retryAfterMs = 2_000,
    minFetchIntervalMs,
    refreshIntervalMs = 10 * 60_000,
    now = Date.now,
    sleep,
  } = options;
  const discoveryUrl = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;

  async function discover(): Promise<KeySet> {
    const response = await fetchImpl(discoveryUrl, {
      method: "GET",
      headers: new Headers({ accept: "application/json" }),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) throw new DiscoveryError(`discovery answered HTTP ${response.status}`);
    const jwksUri = jwksUriOf(await response.json(), issuer);
    log.info("issuer_discovered", { issuer, jwksUri: jwksUri.href });
    // Known keys never lapse, so they keep working while the JWKS endpoint is down; the background refresh below
    // and the fetch on an unknown kid keep the set current.
    return createKeySet({ jwksUri, fetch: fetchImpl, timeoutMs, minFetchIntervalMs, now, sleep });
  }

  let discovery: { jwks: Promise<KeySet>; failedAt?: number } | undefined;
  function keySet(): Promise<KeySet> {
    const retry = discovery?.failedAt !== undefined && now() - discovery.failedAt >= retryAfterMs;
    if (discovery === undefined || retry) {
      const attempt: { jwks: Promise<KeySet>; failedAt?: number } = { jwks: discover() };
      attempt.jwks.catch((error: unknown) => {
        attempt.failedAt = now();
        log.warn("issuer_discovery_failed", { issuer, error });
      });
      discovery = attempt;
    }
    return discovery.jwks;
  }

  let nextRefreshAt = now() + refreshIntervalMs;
  function refreshInBackground(jwks: KeySet): void {
    if (now() < nextRefreshAt) return;
    nextRefreshAt = now() + refreshIntervalMs;
    jwks.refresh().catch((error: unknown) => log.warn("jwks_refresh_failed", { issuer, error }));
  }

  const resolve: KeyResolver = async (header) => {
    const jwks = await keySet();
    refreshInBackground(jwks);
    return jwks(header);
  };
  return Object.assign(resolve, { ready: () => keySet().then(() => undefined) });
}
