import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createJsonLogger, type Logger } from "../logger";
import { checkEvictionPolicy, connectRedis, createRedisRevocationStore } from "./redis";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../../../scripts/redis-server";
import { describeRevocationStoreContract } from "../testing/revocation-store-contract";
import { createTestApi } from "../testing/test-api";
import { createTestIssuer, type TestIssuer } from "../testing/test-issuer";

const SILENT: Logger = { info: () => {}, warn: () => {}, error: () => {} };

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.skipIf(!redisServerAvailable())("Redis revocation store (real redis-server)", () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  /** A client as the API opens it, once connected: it queues nothing, so a command sent before would fail. */
  const connect = async (url = server.url, log: Logger = SILENT) => {
    const client = connectRedis(url, log);
    clients.push(client);
    await new Promise((resolve) => client.once("ready", resolve));
    return client;
  };

  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connect();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  describeRevocationStoreContract("Redis", () => createRedisRevocationStore(redis));

  describe("expiry", () => {
    beforeEach(() => redis.flushdb());

    it("gives each entry the time to live its until asks for, and extends rather than shortens it", async () => {
      const store = createRedisRevocationStore(redis);
      const t = nowSeconds();
      await store.revoke({ sid: "s", issuedUpTo: t, until: t + 300 });
      await store.revoke({ sid: "s", issuedUpTo: t - 10, until: t + 100 });
      await store.revoke({ sub: "alice", issuedUpTo: t, until: t + 600 });
      await store.revokeOnce({ jti: "j", until: t + 50 }, { jti: "logout-1", until: t + 200 });
      const ttl = (key: string) => redis.ttl(key);
      expect(await ttl("tessera:revoked:sid:s")).toBeGreaterThanOrEqual(299);
      expect(await ttl("tessera:revoked:sid:s")).toBeLessThanOrEqual(300);
      expect(await redis.get("tessera:revoked:sid:s")).toBe(String(t));
      expect(await ttl("tessera:revoked:sub:alice")).toBeGreaterThanOrEqual(599);
      expect(await redis.get("tessera:revoked:sub:alice")).toBe(String(t));
      expect(await ttl("tessera:revoked:jti:j")).toBeGreaterThanOrEqual(49);
      expect(await ttl("tessera:seen:logout-1")).toBeGreaterThanOrEqual(199);
    });

    it("keeps a session entry of the earlier format covering every token, until a new revocation gives it a cut-off", async () => {
      const store = createRedisRevocationStore(redis);
      const t = nowSeconds();
      await redis.set("tessera:revoked:sid:old", "1", "EX", 300);
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: t + 5 })).toBe(true);
      await store.revoke({ sid: "old", issuedUpTo: t, until: t + 300 });
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: t })).toBe(true);
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: t + 1 })).toBe(false);
    });

    it("lets Redis drop an entry when its until passes", async () => {
      const store = createRedisRevocationStore(redis);
      const token = { jti: "a", sub: "alice", iat: nowSeconds() };
      await store.revoke({ jti: "a", until: nowSeconds() + 1 });
      expect(await store.isRevoked(token)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await store.isRevoked(token)).toBe(false);
    });
  });

  describe("shared by several API instances", () => {
    let issuer: TestIssuer;
    beforeAll(async () => {
      issuer = await createTestIssuer();
    });

    /** Two instances as two processes would run them: each with its own client and its own verification cache. */
    async function twoInstances() {
      const options = { cacheVerifications: true };
      const first = createTestApi(issuer, { ...options, revocations: createRedisRevocationStore(await connect()) });
      const second = createTestApi(issuer, { ...options, revocations: createRedisRevocationStore(await connect()) });
      return [first, second] as const;
    }

    const postLogoutToken = (claims: Record<string, unknown>) => issuer.mintLogoutToken({ claims });

    it("sees at once a session revoked through another instance", async () => {
      const [first, second] = await twoInstances();
      const sid = `session-${crypto.randomUUID()}`;
      const revoker = await issuer.mint({ claims: { sid } });
      const sibling = await issuer.mint({ claims: { sid } });
      expect((await second.request("GET", "/me", { token: sibling })).status).toBe(200);

      expect((await first.request("POST", "/revocations", { token: revoker })).status).toBe(204);

      expect((await second.request("GET", "/me", { token: sibling })).status).toBe(401);
      expect((await second.request("GET", "/me", { token: revoker })).status).toBe(401);
    });

    it("lets a session signed out through one instance sign in again under the same sid on another", async () => {
      const [first, second] = await twoInstances();
      const sid = `session-${crypto.randomUUID()}`;
      const before = await issuer.mint({ claims: { sid, iat: nowSeconds() - 30 } });
      expect((await first.request("POST", "/revocations", { token: before })).status).toBe(204);
      const again = await issuer.mint({ claims: { sid, iat: nowSeconds() + 1 } });
      expect((await second.request("GET", "/me", { token: again })).status).toBe(200);
      expect((await second.request("GET", "/me", { token: before })).status).toBe(401);
    });

    it("sees at once a logout token relayed to another instance, and refuses its replay there", async () => {
      const [first, second] = await twoInstances();
      const sid = `session-${crypto.randomUUID()}`;
      const token = await issuer.mint({ claims: { sid } });
      expect((await second.request("GET", "/me", { token })).status).toBe(200);

      const logoutToken = await postLogoutToken({ sid });
      expect((await first.postLogoutToken(logoutToken)).status).toBe(200);
      expect((await second.request("GET", "/me", { token })).status).toBe(401);

      const replay = await second.postLogoutToken(logoutToken);
      expect(replay.status).toBe(400);
      expect(second.logs()).toContainEqual(expect.objectContaining({ event: "logout_token_rejected", code: "replayed" }));
    });

    it("ends every earlier session of a subject across instances", async () => {
      const [first, second] = await twoInstances();
      const sub = `user-${crypto.randomUUID()}`;
      const earlier = await issuer.mint({ claims: { sub, iat: nowSeconds() - 30, sid: "laptop" } });
      expect((await first.postLogoutToken(await postLogoutToken({ sub, sid: undefined }))).status).toBe(200);
      expect((await second.request("GET", "/me", { token: earlier })).status).toBe(401);
      const later = await issuer.mint({ claims: { sub, iat: nowSeconds() + 1, sid: "phone" } });
      expect((await second.request("GET", "/me", { token: later })).status).toBe(200);
    });

    it("lets exactly one of the same logout token's concurrent deliveries through", async () => {
      const [first, second] = await twoInstances();
      const logoutToken = await postLogoutToken({ sid: `session-${crypto.randomUUID()}` });
      const statuses = await Promise.all(
        [first, second, first, second].map(async (api) => (await api.postLogoutToken(logoutToken)).status),
      );
      expect(statuses.sort()).toEqual([200, 400, 400, 400]);
    });
  });

  describe("its eviction policy", () => {
    const check = (production: boolean) => {
      const lines: string[] = [];
      const exit = vi.fn();
      return { lines, exit, run: (client = redis) => checkEvictionPolicy(client, { production, log: createJsonLogger((line) => lines.push(line)), exit }) };
    };

    it("lets noeviction through in silence", async () => {
      await redis.config("SET", "maxmemory-policy", "noeviction");
      const { lines, exit, run } = check(true);
      expect(await run()).toBe("noeviction");
      expect(exit).not.toHaveBeenCalled();
      expect(lines).toEqual([]);
    });

    it("stops the API in production on a policy that evicts, and only warns in development", async () => {
      await redis.config("SET", "maxmemory-policy", "allkeys-lru");
      const production = check(true);
      expect(await production.run()).toBe("allkeys-lru");
      expect(production.exit).toHaveBeenCalledWith(1);
      expect(production.lines.join()).toMatch(/"code":"redis_evicts".*set maxmemory-policy noeviction/);
      const development = check(false);
      await development.run();
      expect(development.exit).not.toHaveBeenCalled();
      expect(development.lines.join()).toMatch(/"level":"warn","event":"redis_evicts"/);
      await redis.config("SET", "maxmemory-policy", "noeviction");
    });

    it("says so when the policy cannot be read, as with an ACL that denies INFO", async () => {
      await redis.call("ACL", "SETUSER", "api-no-info", "on", "nopass", "+@all", "-info", "~*");
      const limited = await connect(server.url.replace("redis://", "redis://api-no-info@"));
      const { lines, exit, run } = check(true);
      expect(await run(limited)).toBeUndefined();
      expect(exit).not.toHaveBeenCalled();
      expect(lines.join()).toMatch(/redis_policy_unknown.*\+info/);
    });
  });

  describe("when Redis goes away", () => {
    let lonely: RedisServer | undefined;
    afterEach(() => lonely?.stop());

    it("answers 503 on protected routes and on logout tokens, and logs why", async () => {
      lonely = await startRedisServer();
      const issuer = await createTestIssuer();
      const clientLines: string[] = [];
      const client = await connect(lonely.url, createJsonLogger((line) => clientLines.push(line)));
      const api = createTestApi(issuer, { revocations: createRedisRevocationStore(client) });
      const token = await issuer.mint();
      expect((await api.request("GET", "/me", { token })).status).toBe(200);

      await lonely.stop();
      for (const [method, path] of [["GET", "/me"], ["GET", "/notes"], ["POST", "/revocations"]] as const) {
        const res = await api.request(method, path, { token });
        expect(res.status, `${method} ${path}`).toBe(503);
        expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
      }
      const logout = await api.postLogoutToken(await issuer.mintLogoutToken());
      expect(logout.status).toBe(503);
      expect((await api.request("GET", "/healthz")).status).toBe(200);

      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_check_failed", level: "error" }));
      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_failed", level: "error" }));
      // The client says so once its first reconnection fails.
      await vi.waitFor(() =>
        expect(clientLines.map((line) => JSON.parse(line) as unknown)).toContainEqual(expect.objectContaining({ event: "redis_unavailable" })),
      );
    }, 20_000);
  });
});
