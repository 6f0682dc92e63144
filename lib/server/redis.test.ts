import { describe, expect, it, vi } from "vitest";
import { COMMAND_TIMEOUT_MS, connectRedis } from "./redis";
import { createRedisEndedSessions } from "./ended-sessions/redis";
import { redisServerAvailable, useRedisServer } from "../../scripts/redis-server";

describe("connectRedis", () => {
  it("fails commands fast while Redis is unreachable, and logs that once, without crashing", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    // Port 1 on loopback: nothing listens there, so every connection attempt is refused.
    const redis = connectRedis(new URL("redis://:secret-password@127.0.0.1:1"));
    try {
      const store = createRedisEndedSessions(redis);
      const started = Date.now();
      await expect(store.isEnded(0, "s")).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const lines = logged.mock.calls.map((call) => String(call[0]));
      expect(lines.filter((line) => line.includes("Redis is unavailable"))).toHaveLength(1);
      expect(lines.join("\n")).not.toContain("secret-password");
    } finally {
      redis.disconnect();
      logged.mockRestore();
    }
  });

  it("keeps no offline queue: a command sent before the connection is up fails at once instead of waiting for it", async () => {
    const redis = connectRedis(new URL("redis://127.0.0.1:1"));
    vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const started = Date.now();
      await expect(redis.get("k")).rejects.toThrow(/offline queue|writeable/i);
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      redis.disconnect();
    }
  });
});

describe.skipIf(!redisServerAvailable())("connectRedis against a real redis-server", () => {
  const server = useRedisServer((url) => connectRedis(new URL(url)));

  it("gives up on a command Redis does not answer within the deadline, and answers again once it does", async () => {
    const [redis, blocker] = [await server.client(), await server.client()];
    // CLIENT PAUSE stalls every other client's commands, as a Redis that hangs would.
    await blocker.call("CLIENT", "PAUSE", "1000", "ALL");
    const stalled = new Promise((resolve) => setTimeout(resolve, 1_100));
    const started = Date.now();
    await expect(redis.get("k")).rejects.toThrow(/timed out/i);
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 400);
    await stalled;
    expect(await redis.get("k")).toBeNull();
  });
});
