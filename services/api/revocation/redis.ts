import { Redis } from "ioredis";
import type { Logger } from "../logger";
import type { OneTimeMessage, Revocation, RevocationStore } from "./store";

const KEY_PREFIX = "tessera:revoked:";
const SEEN_PREFIX = "tessera:seen:";

// Run inside Redis so that concurrent instances cannot interleave: a message id is claimed together with its
// revocation, and an entry is only ever extended (both its value, a time, and its expiry), never shortened.
// KEYS[1] the entry, KEYS[2] (optional) the message id; ARGV: value, seconds to keep the entry, seconds to keep the id.
const REVOKE_SCRIPT = `
if KEYS[2] and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return 0 end
local value, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
if current then
  value = math.max(value, tonumber(current))
  ttl = math.max(ttl, redis.call('TTL', KEYS[1]))
end
if ttl > 0 then redis.call('SET', KEYS[1], value, 'EX', ttl) end
return 1
`;

/**
 * What earlier versions stored for a revoked session, before sessions had cut-offs: it still covers every token of
 * the session until it expires, unless a new revocation of the session replaces it with a cut-off first.
 */
const SESSION_WITHOUT_CUT_OFF = "1";

/** Whether an entry holding a cut-off (epoch seconds) covers a token issued at `iat`. */
const coversIssuedAt = (cutOff: string | null | undefined, iat: number) => cutOff != null && iat <= Number(cutOff);

function entryOf(revocation: Revocation): { key: string; value: number } {
  if ("sub" in revocation) return { key: `${KEY_PREFIX}sub:${revocation.sub}`, value: revocation.issuedUpTo };
  if ("sid" in revocation) return { key: `${KEY_PREFIX}sid:${revocation.sid}`, value: revocation.issuedUpTo };
  return { key: `${KEY_PREFIX}jti:${revocation.jti}`, value: 1 };
}

/** The shared revocation list for several API instances; Redis expires each entry by itself. */
export function createRedisRevocationStore(redis: Redis, now: () => number = Date.now): RevocationStore {
  const secondsUntil = (until: number) => until - Math.floor(now() / 1000);

  async function run(revocation: Revocation, message?: OneTimeMessage): Promise<boolean> {
    const { key, value } = entryOf(revocation);
    const args = [value, secondsUntil(revocation.until)];
    const result =
      message === undefined
        ? await redis.eval(REVOKE_SCRIPT, 1, key, ...args)
        : // A message already past its `until` would be refused by its verifier; one second keeps SET valid.
          await redis.eval(REVOKE_SCRIPT, 2, key, `${SEEN_PREFIX}${message.jti}`, ...args, Math.max(1, secondsUntil(message.until)));
    return result === 1;
  }

  return {
    async revoke(revocation) {
      await run(revocation);
    },
    revokeOnce: run,
    async isRevoked({ jti, sid, sub, iat }) {
      // One round trip whatever the kind of entry; absent keys come back as null.
      const [byJti, bySub, bySid] = await redis.mget(
        `${KEY_PREFIX}jti:${jti}`,
        `${KEY_PREFIX}sub:${sub}`,
        ...(sid === undefined ? [] : [`${KEY_PREFIX}sid:${sid}`]),
      );
      return byJti != null || bySid === SESSION_WITHOUT_CUT_OFF || coversIssuedAt(bySid, iat) || coversIssuedAt(bySub, iat);
    },
  };
}

/** The longest a request waits for one Redis command. */
export const COMMAND_TIMEOUT_MS = 500;

/**
 * A client that fails fast while Redis is unreachable, so requests get a prompt 503 rather than hanging: no
 * offline queue (a command sent while disconnected fails at once), a deadline on every command, and reconnection
 * at least every second, so the API recovers by itself. The URL may carry a password: it is never logged.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    connectTimeout: 1_000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
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

/**
 * Redis must never evict the revocation list: an evicted entry lets a revoked token through again. With
 * `noeviction`, a full Redis refuses writes instead, which the API answers with 503. The policy is read from
 * `INFO` (which managed Redis services allow where they deny `CONFIG`): any other stops the API in production
 * (`exit`) and is a warning in development; one that cannot be read (an ACL without `+info`) is logged.
 */
export async function checkEvictionPolicy(
  redis: Redis,
  { production, log, exit }: { production: boolean; log: Logger; exit: (code: number) => void },
): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    policy = /^maxmemory_policy:(\S+)/m.exec(await redis.info("memory"))?.[1];
  } catch (error) {
    log.error("redis_policy_unknown", { reason: "could not read Redis's maxmemory-policy; give the Redis user +info", error });
    return undefined;
  }
  if (policy === undefined || policy === "noeviction") return policy;
  const reason = `Redis's maxmemory-policy is ${policy}: it may drop revoked tokens and sessions; set maxmemory-policy noeviction`;
  if (production) {
    log.error("api_start_failed", { code: "redis_evicts", reason });
    exit(1);
  } else {
    log.warn("redis_evicts", { reason });
  }
  return policy;
}
