/**
 * The shared list of ended sessions for several web instances: one Redis key per entry, whose value is the
 * latest start of a session it ends, and which Redis expires by itself. Node runtime only.
 */
import type { Redis } from "ioredis";
import type { EndedSessions, OneTimeMessage } from "./store";

// Its older name, so that instances of the previous version and this one read and write the same entries.
const KEY_PREFIX = "tessera:web:ended-sid:";
const JTI_PREFIX = "tessera:web:logout-jti:";

// Run inside Redis so that concurrent instances cannot interleave: a message id is claimed together with the
// session it ends, and an entry's time to live and the sessions it ends are only ever extended, never shortened.
const EXTEND = `
local function extend(key, ttl, startedBy)
  ttl = tonumber(ttl)
  startedBy = tonumber(startedBy)
  if ttl <= 0 then return end
  local listed = redis.call('GET', key)
  if listed then
    -- As latestStartEnded reads it: a value that ends every session keeps doing so.
    if listed == '1' or not string.match(listed, '^%d+$') then startedBy = listed
    elseif tonumber(listed) > startedBy then startedBy = tonumber(listed) end
  end
  local left = redis.call('TTL', key)
  if left > ttl then ttl = left end
  redis.call('SET', key, startedBy, 'EX', ttl)
end
`;
// KEYS[1] the key; ARGV[1] seconds to keep it, ARGV[2] the latest start of a session it ends.
const END_SCRIPT = `${EXTEND}
extend(KEYS[1], ARGV[1], ARGV[2])
return 1
`;
// KEYS[1] the message id, KEYS[2] (optional) the key; ARGV[1] seconds to keep the id, ARGV[2] to keep the key,
// ARGV[3] the latest start of a session it ends.
const END_ONCE_SCRIPT = `${EXTEND}
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if KEYS[2] then extend(KEYS[2], ARGV[2], ARGV[3]) end
return 1
`;

/**
 * `'1'`, which instances from before sessions recorded their start write, ends every session under its key, as
 * it always did; so does a value that is not a start at all, rather than none. `extend` merges by the same rule.
 */
function latestStartEnded(value: string): number {
  return value !== "1" && /^\d+$/.test(value) ? Number(value) : Infinity;
}

export function createRedisEndedSessions(redis: Redis, now: () => number = Date.now): EndedSessions {
  // A session already over needs no entry (its cookie has expired): `extend` skips a time to live below one.
  const secondsUntil = (until: number) => until - Math.floor(now() / 1000);

  return {
    async end(key, until, startedBy = until) {
      await redis.eval(END_SCRIPT, 1, `${KEY_PREFIX}${key}`, secondsUntil(until), startedBy);
    },
    async endOnce(key, until, message: OneTimeMessage, startedBy = until) {
      const messageKey = `${JTI_PREFIX}${message.jti}`;
      // A message already past its `until` would be refused by its verifier; one second keeps SET valid.
      const keepMessage = Math.max(1, secondsUntil(message.until));
      const result =
        key === undefined
          ? await redis.eval(END_ONCE_SCRIPT, 1, messageKey, keepMessage)
          : await redis.eval(END_ONCE_SCRIPT, 2, messageKey, `${KEY_PREFIX}${key}`, keepMessage, secondsUntil(until), startedBy);
      return result === 1;
    },
    async isEnded(startedAt, ...keys) {
      if (keys.length === 0) return false;
      const listed = await redis.mget(...keys.map((key) => `${KEY_PREFIX}${key}`));
      return listed.some((value) => value !== null && startedAt <= latestStartEnded(value));
    },
  };
}
