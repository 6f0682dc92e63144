/**
 * The shared list of ended sessions for several web instances: one Redis key per ended `sid`, which Redis
 * expires by itself. Node runtime only.
 */
import { Redis } from "ioredis";
import type { EndedSessions, OneTimeMessage } from "./ended-sessions";
import { logError, logInfo } from "./log";

const SID_PREFIX = "tessera:web:ended-sid:";
const JTI_PREFIX = "tessera:web:logout-jti:";

// Run inside Redis so that concurrent instances cannot interleave: a message id is claimed together with the
// session it ends, and an entry's time to live is only ever extended, never shortened.
const EXTEND = `
local function extend(key, ttl)
  ttl = tonumber(ttl)
  if ttl > 0 and ttl > redis.call('TTL', key) then redis.call('SET', key, '1', 'EX', ttl) end
end
`;
// KEYS[1] the sid; ARGV[1] seconds to keep it.
const END_SCRIPT = `${EXTEND}
extend(KEYS[1], ARGV[1])
return 1
`;
// KEYS[1] the message id, KEYS[2] (optional) the sid; ARGV[1] seconds to keep the id, ARGV[2] to keep the sid.
const END_ONCE_SCRIPT = `${EXTEND}
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if KEYS[2] then extend(KEYS[2], ARGV[2]) end
return 1
`;

export function createRedisEndedSessions(redis: Redis, now: () => number = Date.now): EndedSessions {
  // A session already over needs no entry (its cookie has expired): `extend` skips a time to live below one.
  const secondsUntil = (until: number) => until - Math.floor(now() / 1000);

  return {
    async end(sid, until) {
      await redis.eval(END_SCRIPT, 1, `${SID_PREFIX}${sid}`, secondsUntil(until));
    },
    async endOnce(sid, until, message: OneTimeMessage) {
      const messageKey = `${JTI_PREFIX}${message.jti}`;
      // A message already past its `until` would be refused by its verifier; one second keeps SET valid.
      const keepMessage = Math.max(1, secondsUntil(message.until));
      const result =
        sid === undefined
          ? await redis.eval(END_ONCE_SCRIPT, 1, messageKey, keepMessage)
          : await redis.eval(END_ONCE_SCRIPT, 2, messageKey, `${SID_PREFIX}${sid}`, keepMessage, secondsUntil(until));
      return result === 1;
    },
    async isEnded(...keys) {
      return keys.length > 0 && (await redis.exists(...keys.map((key) => `${SID_PREFIX}${key}`))) > 0;
    },
  };
}

/**
 * A client that fails fast while Redis is unreachable, so a request waits at most about a second for it.
 * Connection errors are logged on each change of state and never thrown at the process (an `error` event
 * without a listener would crash it). The URL may carry a password: it is never logged.
 */
export function connectRedis(url: URL): Redis {
  const redis = new Redis(url.href, { connectTimeout: 2_000, commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  let healthy = true;
  redis.on("error", (error: unknown) => {
    if (healthy) logError("ended-sessions", "Redis is unavailable", error);
    healthy = false;
  });
  redis.on("ready", () => {
    if (!healthy) logInfo("ended-sessions", "Redis is available again");
    healthy = true;
  });
  return redis;
}
