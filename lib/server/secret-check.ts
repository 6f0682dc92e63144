/**
 * Whether the instances sharing Redis seal with the same newest `AUTH_SECRET`: each instance, as it starts,
 * leaves a fingerprint of its secret in Redis and reads the one the previous starter left. Instances that
 * disagree open each other's cookies only if each lists the other's secret, and coordinate refreshes only among
 * themselves (the coordination's keys are derived from the newest secret), so a difference is logged, once, at
 * start-up: expected while a rotation is rolled out, a misconfiguration otherwise. The fingerprint is an HMAC of
 * a fixed text: it tells nothing about the secret. Node runtime only.
 */
import { createHmac } from "node:crypto";
import type { Redis } from "ioredis";
import { logError } from "@/lib/log";

const KEY = "tessera:web:secret-fingerprint";
/** Long enough to span a roll-out; an instance started a day later compares with nobody. */
const KEEP_SECONDS = 24 * 60 * 60;

export const secretFingerprint = (authSecret: string) => createHmac("sha256", authSecret).update("tessera instance fingerprint").digest("base64url");

/** Resolves once compared (or when Redis could not be asked, which `/readyz` reports anyway); never throws. */
export async function compareSecretWithOtherInstances(
  redis: Redis,
  authSecret: string,
  { readyWithinMs = 5_000 }: { readyWithinMs?: number } = {},
): Promise<"same" | "different" | "first" | "unknown"> {
  try {
    if (redis.status !== "ready") {
      await new Promise((resolve, reject) => {
        redis.once("ready", resolve);
        setTimeout(() => reject(new Error("Redis was not ready in time")), readyWithinMs).unref();
      });
    }
    const previous = await redis.set(KEY, secretFingerprint(authSecret), "EX", KEEP_SECONDS, "GET");
    if (previous === null) return "first";
    if (previous === secretFingerprint(authSecret)) return "same";
    logError(
      "start",
      "the instance that started before this one seals with a different newest AUTH_SECRET: expected while a rotation is rolled out; otherwise give every instance the same AUTH_SECRET list, or their sessions and refreshes will not be shared",
    );
    return "different";
  } catch {
    return "unknown";
  }
}
