/**
 * Redis must never evict what the instances share: an evicted entry of the list of ended sessions readmits a
 * signed-out session, and an evicted spent mark lets a rotated refresh token be sent to the IdP again. With
 * `noeviction`, a full Redis refuses writes instead, which the app answers with 503. So every time the client
 * connects, Redis's `maxmemory-policy` is read (from `INFO`, which managed Redis services allow where they deny
 * `CONFIG`): anything else stops the instance in production, and is a warning in development. Node runtime only.
 */
import type { Redis } from "ioredis";
import { logError, logInfo } from "@/lib/log";

export async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  return /^maxmemory_policy:(\S+)/m.exec(await redis.info("memory"))?.[1];
}

export interface EvictionCheck {
  production: boolean;
  exit: (code: number) => void;
}

/** Resolves with the policy found; `undefined` when it could not be read, which is logged. */
export async function checkEvictionPolicy(redis: Redis, { production, exit }: EvictionCheck): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    policy = await evictionPolicy(redis);
  } catch (error) {
    // An ACL that denies INFO hides the policy: say so, since nothing else will.
    logError("start", "could not read Redis's maxmemory-policy to check that it is noeviction; give the Redis user +info", error);
    return undefined;
  }
  if (policy === undefined || policy === "noeviction") return policy;
  const problem = `Redis's maxmemory-policy is ${policy}: it may drop ended sessions (readmitting them) and spent refresh tokens (sending them again); set maxmemory-policy noeviction`;
  if (production) {
    logError("start", `the web app cannot run: ${problem}`);
    exit(1);
  } else {
    logInfo("start", `warning: ${problem}`);
  }
  return policy;
}
