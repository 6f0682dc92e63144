/**
 * What a web instance checks once, as it starts (called from `instrumentation.ts`), so that a deployment that
 * cannot work correctly stops at once with one clear line, instead of failing later one request at a time.
 * Node runtime only.
 *
 * 1. The configuration is valid (`getConfig` names the variable that is not).
 * 2. The list of ended sessions opens: without REDIS_URL, this process takes the embedded SQLite file for
 *    itself, and a second process on the same file refuses to start (it could never see the first one's
 *    sign-outs); with REDIS_URL, the client connects in the background and `/readyz` says when it answers.
 * 3. In production without REDIS_URL, say that this instance must be the only one: a second instance would keep
 *    its own list of ended sessions and coordinate refreshes only with itself.
 * 4. With REDIS_URL, in the background, once Redis answers: compare this instance's newest AUTH_SECRET with the
 *    other instances' (`secret-check.ts`; a difference is logged), and, at every connection, check that Redis
 *    never evicts (`redis-eviction.ts`; in production an evicting Redis stops the instance).
 */
import { getConfig } from "@/lib/config";
import { logError, logInfo } from "@/lib/log";
import { endedSessions } from "./ended-sessions";
import { sharedRedis } from "./redis";
import { checkEvictionPolicy } from "./redis-eviction";
import { compareSecretWithOtherInstances } from "./secret-check";

export function startInstance({ exit = (code: number) => process.exit(code) }: { exit?: (code: number) => never } = {}): void {
  try {
    const { production, redisUrl, authSecrets } = getConfig();
    endedSessions();
    const redis = sharedRedis();
    if (redis) {
      void compareSecretWithOtherInstances(redis, authSecrets[0]);
      const checkEviction = () => void checkEvictionPolicy(redis, { production, exit });
      if (redis.status === "ready") checkEviction();
      redis.on("ready", checkEviction);
    }
    if (production && !redisUrl) {
      logInfo(
        "start",
        "REDIS_URL is not set: this instance keeps its list of ended sessions and its refresh coordination to itself, so it must be the only one. Set REDIS_URL to run several.",
      );
    }
  } catch (error) {
    logError("start", "the web app cannot start", error);
    exit(1);
  }
}
