import { Redis } from "ioredis";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRedisEndedSessions } from "./redis";
import { describeEndedSessionsContract } from "@/lib/testing/ended-sessions-contract";
import { redisServerAvailable, useRedisServer } from "../../../scripts/redis-server";

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.skipIf(!redisServerAvailable())("Redis store of ended sessions (real redis-server)", () => {
  const server = useRedisServer((url) => new Redis(url));
  let redis: Redis;
  beforeAll(async () => {
    redis = await server.client();
  });

  describeEndedSessionsContract("Redis", () => createRedisEndedSessions(redis));

  describe("expiry", () => {
    beforeEach(() => redis.flushdb());

    it("keeps each key as long as its until asks, extending it but never shortening it", async () => {
      const store = createRedisEndedSessions(redis);
      const t = nowSeconds();
      await store.end("s", t + 300);
      await store.end("s", t + 100);
      expect(await redis.ttl("tessera:web:ended-sid:s")).toBeGreaterThanOrEqual(299);
      await store.endOnce("s", t + 600, { jti: "j", until: t + 120 });
      expect(await redis.ttl("tessera:web:ended-sid:s")).toBeGreaterThanOrEqual(599);
      expect(await redis.ttl("tessera:web:logout-jti:j")).toBeGreaterThanOrEqual(119);
      expect(await redis.ttl("tessera:web:logout-jti:j")).toBeLessThanOrEqual(120);
    });

    it("reads an entry that instances from before sessions recorded their start write as ending every session under its key", async () => {
      const store = createRedisEndedSessions(redis);
      const t = nowSeconds();
      await redis.set("tessera:web:ended-sid:s", "1", "EX", 300);
      expect(await store.isEnded(0, "s")).toBe(true);
      expect(await store.isEnded(t, "s")).toBe(true);
      await store.end("s", t + 600, t - 60);
      expect(await store.isEnded(t, "s")).toBe(true);
      expect(await redis.ttl("tessera:web:ended-sid:s")).toBeGreaterThan(300);
    });

    it("reads a value that is not a start as ending every session under its key", async () => {
      const store = createRedisEndedSessions(redis);
      await redis.set("tessera:web:ended-sid:s", "soon", "EX", 300);
      expect(await store.isEnded(nowSeconds(), "s")).toBe(true);
      expect(await store.isEnded(nowSeconds(), "other")).toBe(false);
      await store.end("s", nowSeconds() + 300, nowSeconds() - 60);
      expect(await store.isEnded(nowSeconds(), "s")).toBe(true);
    });

    it("lets Redis drop a session once its until passes", async () => {
      const store = createRedisEndedSessions(redis);
      await store.end("s", nowSeconds() + 1);
      expect(await store.isEnded(0, "s")).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await store.isEnded(0, "s")).toBe(false);
    });

    it("keeps a message id for at least a second, even one already past its until", async () => {
      const store = createRedisEndedSessions(redis);
      expect(await store.endOnce(undefined, nowSeconds(), { jti: "late", until: nowSeconds() - 5 })).toBe(true);
      expect(await redis.ttl("tessera:web:logout-jti:late")).toBe(1);
    });
  });
});
