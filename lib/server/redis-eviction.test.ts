import { beforeAll, describe, expect, it, vi } from "vitest";
import { connectRedis } from "./redis";
import { checkEvictionPolicy } from "./redis-eviction";
import { redisServerAvailable, useRedisServer } from "../../scripts/redis-server";
import type { Redis } from "ioredis";

describe.skipIf(!redisServerAvailable())("Redis's eviction policy (real redis-server)", () => {
  const server = useRedisServer((url) => connectRedis(new URL(url)));
  let redis: Redis;
  beforeAll(async () => {
    redis = await server.client();
  });

  it("lets noeviction through in silence", async () => {
    await redis.config("SET", "maxmemory-policy", "noeviction");
    const exit = vi.fn();
    const logged = vi.spyOn(console, "error");
    expect(await checkEvictionPolicy(redis, { production: true, exit })).toBe("noeviction");
    expect(exit).not.toHaveBeenCalled();
    expect(logged).not.toHaveBeenCalled();
  });

  it("stops a production instance on any policy that evicts, saying what to set", async () => {
    await redis.config("SET", "maxmemory-policy", "allkeys-lru");
    const exit = vi.fn();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await checkEvictionPolicy(redis, { production: true, exit })).toBe("allkeys-lru");
    expect(exit).toHaveBeenCalledWith(1);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/maxmemory-policy is allkeys-lru.*set maxmemory-policy noeviction/);
  });

  it("only warns in development", async () => {
    await redis.config("SET", "maxmemory-policy", "volatile-ttl");
    const exit = vi.fn();
    const warned = vi.spyOn(console, "info").mockImplementation(() => {});
    expect(await checkEvictionPolicy(redis, { production: false, exit })).toBe("volatile-ttl");
    expect(exit).not.toHaveBeenCalled();
    expect(String(warned.mock.calls[0]?.[0])).toMatch(/warning: .*volatile-ttl/);
  });

  it("says so when the policy cannot be read, as with an ACL that denies INFO", async () => {
    await redis.call("ACL", "SETUSER", "no-info", "on", "nopass", "+@all", "-info", "~*");
    const limited = await server.client(server.url().replace("redis://", "redis://no-info@"));
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const exit = vi.fn();
    expect(await checkEvictionPolicy(limited, { production: true, exit })).toBeUndefined();
    expect(String(logged.mock.calls.at(-1)?.[0])).toMatch(/could not read Redis's maxmemory-policy.*\+info/);
  });
});
