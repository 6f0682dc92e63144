import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { connectRedis } from "./redis";
import { compareSecretWithOtherInstances, secretFingerprint } from "./secret-check";
import { redisServerAvailable, useRedisServer } from "../../scripts/redis-server";
import type { Redis } from "ioredis";

const SECRET = "instance-secret-0123456789abcdef0123456789";
const OTHER = "another-secret-0123456789abcdef0123456789";

describe.skipIf(!redisServerAvailable())("comparing AUTH_SECRET between instances (real redis-server)", () => {
  const server = useRedisServer((url) => connectRedis(new URL(url)));
  let redis: Redis;
  beforeAll(async () => {
    redis = await server.client();
  });
  beforeEach(() => redis.flushdb());

  it("says whether the previous starter had the same newest secret, and logs a difference once", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await compareSecretWithOtherInstances(redis, SECRET)).toBe("first");
    expect(await compareSecretWithOtherInstances(redis, SECRET)).toBe("same");
    expect(logged).not.toHaveBeenCalled();
    expect(await compareSecretWithOtherInstances(redis, OTHER)).toBe("different");
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/different newest AUTH_SECRET/);
    expect(String(logged.mock.calls[0]?.[0])).not.toContain(OTHER);
  });

  it("leaves nothing in Redis that tells the secret", async () => {
    await compareSecretWithOtherInstances(redis, SECRET);
    const stored = await redis.get("tessera:web:secret-fingerprint");
    expect(stored).toBe(secretFingerprint(SECRET));
    expect(stored).not.toContain(SECRET);
    expect(await redis.ttl("tessera:web:secret-fingerprint")).toBeGreaterThan(0);
  });

  it("gives up quietly when Redis cannot be asked", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const unreachable = connectRedis(new URL("redis://127.0.0.1:1"));
    try {
      expect(await compareSecretWithOtherInstances(unreachable, SECRET, { readyWithinMs: 200 })).toBe("unknown");
    } finally {
      unreachable.disconnect();
    }
  });
});
