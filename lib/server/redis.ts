/**
 * The web instance's one Redis client, shared by the list of ended sessions and refresh coordination, and the
 * deadlines every call to it keeps. Node runtime only.
 *
 * No command waits for a connection: with the offline queue off, a command sent while Redis is unreachable fails
 * at once, and one sent to a Redis that does not answer fails after COMMAND_TIMEOUT_MS. Callers turn either into
 * a 503 that keeps the session, never into a decision made without Redis. The client reconnects by itself, so
 * everything recovers when Redis is back, with no restart. The URL may carry a password: it is never logged.
 */
import { Redis } from "ioredis";
import { getConfig } from "@/lib/config";
import { logError, logInfo } from "@/lib/log";

/** The longest a request waits for one Redis command. */
export const COMMAND_TIMEOUT_MS = 500;

export function connectRedis(url: URL): Redis {
  const redis = new Redis(url.href, {
    connectTimeout: 1_000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Try again soon after an outage, and at least every second while it lasts.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  let healthy = true;
  // ioredis reports every failed reconnection; the log records only the changes of state. An `error` event
  // without a listener would crash the process.
  redis.on("error", (error: unknown) => {
    if (healthy) logError("redis", "Redis is unavailable", error);
    healthy = false;
  });
  redis.on("ready", () => {
    if (!healthy) logInfo("redis", "Redis is available again");
    healthy = true;
  });
  return redis;
}

// Next.js bundles this module into each route that uses it: the client lives on globalThis, one per process.
const CLIENT = Symbol.for("tessera.redis");

/** The process's client for `REDIS_URL`, connected on first use; `undefined` without `REDIS_URL`. */
export function sharedRedis(): Redis | undefined {
  const { redisUrl } = getConfig();
  if (!redisUrl) return undefined;
  const registry = globalThis as { [CLIENT]?: Redis };
  registry[CLIENT] ??= connectRedis(redisUrl);
  return registry[CLIENT];
}
