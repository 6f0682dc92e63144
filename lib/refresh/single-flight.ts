/**
 * Runs one task per key at a time, and remembers each result for a short grace period.
 *
 * Concurrent callers with the same key share one in-flight promise (and its error, which is not
 * remembered). Callers that arrive shortly after with the same key get the remembered result instead of
 * running the task again: for token refresh, that is a request still carrying the old cookie, which must
 * not replay a refresh token that was already rotated. Keys should be hashes, never the secrets
 * themselves. Edge-safe; the clock is injectable.
 */

export interface SingleFlightOptions {
  /** How long a result is remembered, in milliseconds. */
  graceMs: number;
  /** Bound on remembered results; the oldest are dropped first. */
  maxEntries?: number;
  now?: () => number;
}

export interface SingleFlight<V> {
  /** `usable` decides whether a remembered result still serves; one that does not is run again. */
  run(key: string, task: () => Promise<V>, usable?: (remembered: V) => boolean): Promise<V>;
}

export function createSingleFlight<V>({ graceMs, maxEntries = 10_000, now = Date.now }: SingleFlightOptions): SingleFlight<V> {
  const inFlight = new Map<string, Promise<V>>();
  // A Map iterates in insertion order, so the first entries are the oldest.
  const recent = new Map<string, { value: V; until: number }>();

  function remember(key: string, value: V): void {
    recent.delete(key);
    recent.set(key, { value, until: now() + graceMs });
    for (const [oldKey, entry] of recent) {
      if (recent.size <= maxEntries && entry.until > now()) break;
      recent.delete(oldKey);
    }
  }

  return {
    run(key, task, usable = () => true) {
      const remembered = recent.get(key);
      if (remembered && remembered.until > now() && usable(remembered.value)) return Promise.resolve(remembered.value);
      const pending = inFlight.get(key);
      if (pending) return pending;

      const started = task()
        .then((value) => {
          remember(key, value);
          return value;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
