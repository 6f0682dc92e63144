import { Redis } from "ioredis";
import type { Logger } from "./logger";
import { revocationKind, type RevocationStore } from "./revocation-store";

/** The two commands the store needs; an ioredis client provides them. */
export interface RedisCommands {
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  exists(...keys: string[]): Promise<number>;
}

const KEY_PREFIX = "tessera:revoked:";

/** The shared revocation list for several API instances; Redis expires each entry by itself. */
export function createRedisRevocationStore(redis: RedisCommands, now: () => number = Date.now): RevocationStore {
  return {
    async revoke(revocation) {
      const [kind, value] = revocationKind(revocation);
      const ttl = revocation.until - Math.floor(now() / 1000);
      if (ttl > 0) await redis.set(`${KEY_PREFIX}${kind}:${value}`, "1", "EX", ttl);
    },
    async isRevoked({ jti, sid }) {
      const keys = [`${KEY_PREFIX}jti:${jti}`, ...(sid === undefined ? [] : [`${KEY_PREFIX}sid:${sid}`])];
      return (await redis.exists(...keys)) > 0;
    },
  };
}

/**
 * A client that fails fast while Redis is unreachable, so requests get a prompt 503 rather than hanging.
 * The URL may carry a password: it is never logged.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { connectTimeout: 2_000, commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  let healthy = true;
  // ioredis reports every failed reconnection; the log records only the changes of state.
  redis.on("error", (error: unknown) => {
    if (healthy) log.warn("redis_unavailable", { error });
    healthy = false;
  });
  redis.on("ready", () => {
    if (!healthy) log.info("redis_ready");
    healthy = true;
  });
  return redis;
}
