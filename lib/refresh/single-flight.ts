/**
 * Runs one task per key at a time, and remembers each result for a short grace period.
 *
 * Concurrent callers with the same key share one in-flight promise (and its error). Callers that arrive
 * shortly after with the same key get the remembered result instead of running the task again: for token
 * refresh, that is a request still carrying the old cookie, which must not replay a refresh token that was
 * already rotated. A failure is remembered for as long as `rememberFailure` says: for a refresh, the few seconds
 * of an outage's retry interval (a burst of callers makes one attempt, not one each, and none waits out a timeout
 * that another just waited out), or the grace period for a refusal (a dead refresh token is not sent again). Keys
 * should be hashes, never the secrets themselves. Edge-safe; the clock is injectable.
 */

export interface SingleFlightOptions {
  /** How long a result is remembered, in milliseconds. */
  graceMs: number;
  /** Bound on remembered results; the oldest are dropped first. */
  maxEntries?: number;
  /** How long a failure is remembered, in milliseconds; 0, the default, forgets it at once. */
  rememberFailure?: (error: unknown) => number;
  /** Told when a caller is served without running its task: by the one in flight, or by a remembered result. */
  onShared?: (how: "in_flight" | "remembered") => void;
  now?: () => number;
}

export interface SingleFlight<V> {
  /** `usable` decides whether a remembered result still serves; one that does not is run again. */
  run(key: string, task: () => Promise<V>, usable?: (remembered: V) => boolean): Promise<V>;
}

export function createSingleFlight<V>({ graceMs, maxEntries = 10_000, rememberFailure = () => 0, onShared = () => {}, now = Date.now }: SingleFlightOptions): SingleFlight<V> {
  const inFlight = new Map<string, Promise<V>>();
  // A Map iterates in insertion order, so the first entries are the oldest.
  const recent = new Map<string, { value: V; until: number }>();
  const failed = new Map<string, { error: unknown; until: number }>();

  function remember<E extends { until: number }>(entries: Map<string, E>, key: string, entry: E): void {
    entries.delete(key);
    entries.set(key, entry);
    for (const [oldKey, old] of entries) {
      if (entries.size <= maxEntries && old.until > now()) break;
      entries.delete(oldKey);
    }
  }

  return {
    run(key, task, usable = () => true) {
      const remembered = recent.get(key);
      if (remembered && remembered.until > now() && usable(remembered.value)) {
        onShared("remembered");
        return Promise.resolve(remembered.value);
      }
      const pending = inFlight.get(key);
      if (pending) {
        onShared("in_flight");
        return pending;
      }
      const failure = failed.get(key);
      if (failure && failure.until > now()) return Promise.reject(failure.error);

      const started = task()
        .then(
          (value) => {
            failed.delete(key);
            remember(recent, key, { value, until: now() + graceMs });
            return value;
          },
          (error: unknown) => {
            const forMs = rememberFailure(error);
            if (forMs > 0) remember(failed, key, { error, until: now() + forMs });
            throw error;
          },
        )
        .finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
