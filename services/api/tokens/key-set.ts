import { createLocalJWKSet, errors, type FetchImplementation, type JSONWebKeySet } from "jose";
import { countJwksFetch } from "../telemetry/signals";
import type { KeyResolver } from "./signed-token";

/**
 * The issuer's key set, read from its `jwks_uri` within a budget: one fetch every `minFetchIntervalMs` at most,
 * whoever asks. A token whose `kid` the set lacks waits for the next fetch that starts after it arrived (joining
 * one already waiting for its turn) instead of being refused at once, so a key the IdP starts signing with is
 * accepted within one interval. Nothing a caller sends moves the budget: only a fetch does, so tokens with
 * made-up `kid`s cost at most one fetch per interval and cannot keep a real new key out.
 */

/** 12 fetches a minute at most, and a new key accepted within 5 s of its first token. */
export const MIN_FETCH_INTERVAL_MS = 5_000;

export interface KeySetOptions {
  jwksUri: URL;
  fetch?: FetchImplementation;
  /** Bound on every fetch. */
  timeoutMs: number;
  minFetchIntervalMs?: number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Waits for the next fetch's turn. */
  sleep?: (ms: number) => Promise<void>;
}

/** The key set and `refresh`, the next fetch within the budget (for the background re-read). */
export type KeySet = KeyResolver & { refresh(): Promise<void> };

export class KeySetError extends Error {
  override readonly name = "KeySetError";
}

/**
 * Milliseconds on a clock that never goes back: the budget and the "fetched since this token arrived" rule must
 * not hold every unknown kid, or trust a stale read, when the wall clock is set back.
 */
const monotonicNow = () => performance.timeOrigin + performance.now();

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createKeySet(options: KeySetOptions): KeySet {
  const { jwksUri, fetch: fetchImpl = fetch, timeoutMs, minFetchIntervalMs = MIN_FETCH_INTERVAL_MS, now = monotonicNow, sleep = defaultSleep } = options;
  /** The keys, and when the fetch that read them started. */
  let keys: { find: ReturnType<typeof createLocalJWKSet>; readAt: number } | undefined;
  // A failed fetch counts too, so an unreachable endpoint is not asked more often than a healthy one.
  let lastStartedAt = -Infinity;
  let next: { startedAt?: number; done: Promise<void> } | undefined;

  async function read(startedAt: number): Promise<void> {
    try {
      const response = await fetchImpl(jwksUri.href, {
        method: "GET",
        headers: new Headers({ accept: "application/json, application/jwk-set+json" }),
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) throw new KeySetError(`the JWKS endpoint answered HTTP ${response.status}`);
      keys = { find: createLocalJWKSet((await response.json()) as JSONWebKeySet), readAt: startedAt };
    } catch (error) {
      countJwksFetch(false);
      throw error;
    }
    countJwksFetch(true);
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

  const find: KeyResolver = async (header) => {
    if (keys === undefined) throw new KeySetError("the key set has not been read");
    return keys.find(header);
  };

  const resolve: KeyResolver = async (header) => {
    const arrival = now();
    if (keys === undefined) await nextFetch();
    try {
      return await find(header);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    await readSince(arrival);
    return find(header);
  };
  return Object.assign(resolve, { refresh: nextFetch });
}
