/**
 * The IdP's key set, read from its `jwks_uri` within a budget: one fetch every `minFetchIntervalMs` at most, whoever
 * asks. A token whose `kid` the set lacks waits for the next fetch that starts after it arrived (joining one already
 * waiting for its turn) instead of being refused at once, so a key the IdP starts signing with is accepted within one
 * interval. Nothing a caller sends moves the budget, only a fetch does: tokens with made-up `kid`s cost at most one
 * fetch per interval and cannot keep a real new key out. Fetch, clock and sleep are injected. Edge-safe.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { CodedError } from "@/lib/errors";
import { observedIdpFetch } from "./observed-fetch";

/** 12 fetches a minute at most, and a new key accepted within 5 s of its first token. */
export const MIN_FETCH_INTERVAL_MS = 5_000;

/** As jose's `cacheMaxAge`: a set this old is read again before it is used, so withdrawn keys stop being trusted. */
export const MAX_AGE_MS = 10 * 60_000;

export interface KeySetOptions {
  /** Where the IdP publishes its keys, resolved at the first fetch (discovery may not have run yet). */
  jwksUri: () => Promise<string>;
  /** Bound on every fetch. */
  timeoutMs: number;
  fetch?: typeof fetch;
  minFetchIntervalMs?: number;
  maxAgeMs?: number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Waits for the next fetch's turn. */
  sleep?: (ms: number) => Promise<void>;
}

/** The JWKS endpoint gave no key set: nothing is known about the token, which is neither accepted nor refused. */
export class KeySetError extends CodedError<"keys_unavailable"> {
  override readonly name = "KeySetError";
}

/**
 * Milliseconds on a clock that never goes back: the budget and the "fetched since this token arrived" rule must
 * not hold every unknown kid, or trust a stale read, when the wall clock is set back.
 */
const monotonicNow = () => performance.timeOrigin + performance.now();

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createKeySet(options: KeySetOptions): JWTVerifyGetKey {
  const {
    jwksUri,
    timeoutMs,
    fetch: unobserved = fetch,
    minFetchIntervalMs = MIN_FETCH_INTERVAL_MS,
    maxAgeMs = MAX_AGE_MS,
    now = monotonicNow,
    sleep = defaultSleep,
  } = options;
  const fetchImpl = observedIdpFetch("jwks", unobserved);
  /** The keys, and when the fetch that read them started. */
  let keys: { find: ReturnType<typeof createLocalJWKSet>; readAt: number } | undefined;
  // A failed fetch counts too, so an unreachable endpoint is not asked more often than a healthy one.
  let lastStartedAt = -Infinity;
  let next: { startedAt?: number; done: Promise<void> } | undefined;

  async function read(startedAt: number): Promise<void> {
    const response = await fetchImpl(await jwksUri(), {
      method: "GET",
      headers: { accept: "application/json, application/jwk-set+json" },
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) throw new KeySetError("keys_unavailable", `The IdP's JWKS endpoint answered HTTP ${response.status}`);
    keys = { find: createLocalJWKSet((await response.json()) as JSONWebKeySet), readAt: startedAt };
  }

  /** The next fetch: the one waiting for its turn or under way, else a new one at the first moment the budget allows. */
  function nextFetch(): Promise<void> {
    if (next !== undefined) return next.done;
    const attempt: { startedAt?: number; done: Promise<void> } = { done: Promise.resolve() };
    attempt.done = (async () => {
      // Never longer than the interval, whatever the clock says.
      const wait = Math.min(minFetchIntervalMs, lastStartedAt + minFetchIntervalMs - now());
      if (wait > 0) await sleep(wait);
      attempt.startedAt = lastStartedAt = now();
      await read(attempt.startedAt);
    })().finally(() => {
      if (next === attempt) next = undefined;
    });
    next = attempt;
    return attempt.done;
  }

  /** Keys read by a fetch that started no earlier than `arrival`: one under way before it may predate a new key. */
  async function readSince(arrival: number): Promise<void> {
    for (;;) {
      if (keys !== undefined && keys.readAt >= arrival) return;
      const current = next;
      if (current?.startedAt === undefined || current.startedAt >= arrival) return nextFetch();
      await current.done.catch(() => undefined);
    }
  }

  const find: JWTVerifyGetKey = async (header, token) => {
    if (keys === undefined) throw new KeySetError("keys_unavailable", "The IdP's key set has not been read");
    return keys.find(header, token);
  };

  return async (header, token) => {
    const arrival = now();
    if (keys === undefined || arrival - keys.readAt >= maxAgeMs) await nextFetch();
    try {
      return await find(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    await readSince(arrival);
    return find(header, token);
  };
}
