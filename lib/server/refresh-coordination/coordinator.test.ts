import { Redis } from "ioredis";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { RefreshError } from "@/lib/idp/token-refresh";
import type { Session } from "@/lib/session/session";
import { sessionFixture } from "@/lib/testing/fixtures";
import { connectRedis } from "@/lib/server/redis";
import { idpRefresh } from "@/lib/refresh/idp-refresh";
import { useTelemetry } from "@/lib/testing/telemetry";
import { redisServerAvailable, useRedisServer } from "../../../scripts/redis-server";
import { coordinationKeys, createCoordinator, type CoordinatorOptions } from "./coordinator";
import { resultKeys } from "./sealed-result";

const SECRET = "coordination-test-secret-0123456789abcdef";
const nowSeconds = () => Math.floor(Date.now() / 1000);

const successorOf = (session: Session, refreshToken = `${session.refreshToken}+1`): Session => ({
  ...session,
  accessToken: `${session.accessToken}+1`,
  refreshToken,
  accessTokenExpiresAt: nowSeconds() + 300,
  refreshAt: nowSeconds() + 240,
});

const due = (overrides: Partial<Session> = {}) => sessionFixture({ refreshToken: `rt-${Math.random().toString(36).slice(2)}`, refreshAt: nowSeconds() - 1, ...overrides });

const lockOf = (session: Session) => coordinationKeys(resultKeys(SECRET, session.refreshToken!))[2]!;

const refusal = (code: "invalid_grant" | "idp_unreachable") => new RefreshError(code, `the IdP said ${code}`);

describe.skipIf(!redisServerAvailable())("refresh coordination across instances (real redis-server)", () => {
  const server = useRedisServer((url) => new Redis(url));
  let redis: Redis;
  beforeAll(async () => {
    redis = await server.client();
  });
  beforeEach(() => redis.flushdb());

  /** An instance: its own coordinator on its own connection, with the IdP and the list of ended sessions given. */
  async function instance(options: Partial<CoordinatorOptions> = {}) {
    const client = await server.client();
    const refresh = vi.fn(async (session: Session) => successorOf(session));
    const isEnded = vi.fn(async () => false);
    const discard = vi.fn(async () => {});
    const coordinate = createCoordinator({ redis: client, secret: SECRET, refresh, isEnded, discard, leaseMs: 2_000, followMs: 3_000, pollMs: 10, ...options });
    return { coordinate, refresh: (options.refresh as typeof refresh | undefined) ?? refresh, isEnded, discard, client };
  }
  /** A refresh that answers only once `release` is called, so that others can ask while it is under way. */
  const heldRefresh = () => {
    let releaseHeld!: () => void;
    const slowRefresh = vi.fn(async (session: Session) => {
      await new Promise<void>((resolve) => (releaseHeld = resolve));
      return successorOf(session);
    });
    return { slowRefresh, release: () => releaseHeld() };
  };
  const stored = async () => {
    const keys = await redis.keys("*");
    return Promise.all(keys.map(async (key) => ({ key, value: (await redis.get(key)) ?? "", ttl: await redis.pttl(key) })));
  };

  it("makes one refresh however many instances ask at once, and every one of them gets its result", async () => {
    const { slowRefresh, release } = heldRefresh();
    const a = await instance({ refresh: slowRefresh });
    const b = await instance({ refresh: slowRefresh });
    const session = due();
    const asked = [a.coordinate(session), b.coordinate(session), a.coordinate(session), b.coordinate(session)];
    await vi.waitFor(() => expect(slowRefresh).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const results = await Promise.all(asked);
    expect(slowRefresh).toHaveBeenCalledTimes(1);
    expect(new Set(results.map((result) => result.refreshToken))).toEqual(new Set([`${session.refreshToken}+1`]));
  });

  it("hands a later request with the old cookie the successor, on any instance, without asking the IdP", async () => {
    const a = await instance();
    const b = await instance();
    const session = due();
    const first = await a.coordinate(session);
    expect(await b.coordinate(session)).toEqual(first);
    expect(b.refresh).not.toHaveBeenCalled();
  });

  it("never sends a rotated refresh token again once its successor is forgotten: the caller is told it is spent", async () => {
    const a = await instance();
    const b = await instance();
    const session = due();
    await a.coordinate(session);
    const results = (await stored()).filter(({ key }) => key.endsWith(":result"));
    expect(results).toHaveLength(1);
    // The successor is kept for the grace period; the spent mark until the session would have ended anyway.
    expect(results[0]!.ttl).toBeGreaterThan(55_000);
    expect(results[0]!.ttl).toBeLessThanOrEqual(60_000);
    const spent = (await stored()).find(({ key }) => key.endsWith(":spent"))!;
    expect(spent.ttl).toBeGreaterThan((session.expiresAt - nowSeconds() - 5) * 1000);
    await redis.del(results[0]!.key);

    await expect(b.coordinate(session)).rejects.toMatchObject({ code: "refresh_token_spent" });
    expect(b.refresh).not.toHaveBeenCalled();
  });

  it("keeps nothing usable in Redis: names are keyed hashes, the successor is sealed", async () => {
    const a = await instance();
    const session = due();
    const successor = await a.coordinate(session);
    const everything = JSON.stringify(await stored());
    for (const secret of [session.refreshToken!, successor.refreshToken!, successor.accessToken, successor.idToken!, "alice@example.com"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("shares a refusal: no instance sends the refused token again, and each ends the session with the IdP's reason", async () => {
    const a = await instance({ refresh: vi.fn(async () => Promise.reject(refusal("invalid_grant"))) });
    const b = await instance();
    const session = due();
    await expect(a.coordinate(session)).rejects.toMatchObject({ code: "invalid_grant" });
    await expect(b.coordinate(session)).rejects.toMatchObject({ code: "invalid_grant" });
    expect(b.refresh).not.toHaveBeenCalled();
  });

  it("lets the next request try again after an IdP that did not answer: nothing was spent", async () => {
    const a = await instance({ refresh: vi.fn(async () => Promise.reject(refusal("idp_unreachable"))) });
    const b = await instance();
    const session = due();
    await expect(a.coordinate(session)).rejects.toMatchObject({ code: "idp_unreachable" });
    expect((await b.coordinate(session)).refreshToken).toBe(`${session.refreshToken}+1`);
    expect(b.refresh).toHaveBeenCalledTimes(1);
  });

  it("does not refresh a session signed out on another instance", async () => {
    const a = await instance({ isEnded: vi.fn(async () => true) });
    await expect(a.coordinate(due())).rejects.toMatchObject({ code: "session_ended" });
    expect(a.refresh).not.toHaveBeenCalled();
  });

  it("does not revive a session signed out while it was refreshed: the new refresh token is revoked, and never shared", async () => {
    const isEnded = vi.fn<() => Promise<boolean>>().mockResolvedValueOnce(false).mockResolvedValue(true);
    const a = await instance({ isEnded });
    const b = await instance();
    const session = due();
    await expect(a.coordinate(session)).rejects.toMatchObject({ code: "session_ended" });
    expect(a.discard).toHaveBeenCalledWith(`${session.refreshToken}+1`);
    await expect(b.coordinate(session)).rejects.toMatchObject({ code: "session_ended" });
    expect(b.refresh).not.toHaveBeenCalled();
    expect((await stored()).filter(({ key }) => key.endsWith(":result"))).toEqual([]);
  });

  it("publishes the result even when the list of ended sessions cannot be read after the refresh: the rotated token is never sent again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const isEnded = vi.fn<() => Promise<boolean>>().mockResolvedValueOnce(false).mockRejectedValue(new Error("slow read"));
    const a = await instance({ isEnded });
    const b = await instance();
    const session = due();
    const successor = await a.coordinate(session);
    expect(await b.coordinate(session)).toEqual(successor);
    expect(b.refresh).not.toHaveBeenCalled();
  });

  it("never lets a later refusal shorten a rotated token's spent mark", async () => {
    let refuse!: () => void;
    const refresh = vi.fn(() => new Promise<Session>((_, reject) => (refuse = () => reject(refusal("invalid_grant")))));
    const late = await instance({ refresh });
    const session = due();
    const pending = late.coordinate(session).catch((error: unknown) => error);
    await vi.waitFor(() => expect(refresh).toHaveBeenCalled());
    // Meanwhile a leader whose lease had lapsed published its rotation.
    const [, spent] = coordinationKeys(resultKeys(SECRET, session.refreshToken!));
    await redis.set(spent!, "rotated", "PX", 3_600_000);
    refuse();
    expect(await pending).toMatchObject({ code: "invalid_grant" });
    expect(await redis.get(spent!)).toBe("rotated");
    expect(await redis.pttl(spent!)).toBeGreaterThan(3_500_000);
  });

  it("keeps the result of an IdP that does not rotate only while its access token is fresh, and marks nothing spent", async () => {
    const session = due();
    const a = await instance({ refresh: vi.fn(async (current: Session) => ({ ...successorOf(current, current.refreshToken), refreshAt: nowSeconds() + 30 })) });
    await a.coordinate(session);
    const entries = await stored();
    expect(entries.filter(({ key }) => key.endsWith(":spent"))).toEqual([]);
    const result = entries.find(({ key }) => key.endsWith(":result"))!;
    expect(result.ttl).toBeGreaterThan(28_000);
    expect(result.ttl).toBeLessThanOrEqual(30_000);
  });

  it("waits for a leader, and takes over when the leader vanished and its lease lapsed", async () => {
    const session = due();
    const a = await instance({ leaseMs: 200 });
    // A leader that claimed the lock and died before it settled.
    await redis.set(lockOf(session), "dead-leader", "PX", 200);
    const started = Date.now();
    expect((await a.coordinate(session)).refreshToken).toBe(`${session.refreshToken}+1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(a.refresh).toHaveBeenCalledTimes(1);
  });

  it("gives up, unavailable, after the follow deadline, without asking the IdP", async () => {
    const session = due();
    const a = await instance({ followMs: 150 });
    await redis.set(lockOf(session), "slow-leader", "PX", 10_000);
    await expect(a.coordinate(session)).rejects.toMatchObject({ code: "coordination_unavailable" });
    expect(a.refresh).not.toHaveBeenCalled();
  });

  it("is unavailable, and asks the IdP nothing, while Redis cannot be reached", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const unreachable = connectRedis(new URL("redis://127.0.0.1:1"));
    const refresh = vi.fn(async (session: Session) => successorOf(session));
    const coordinate = createCoordinator({ redis: unreachable, secret: SECRET, refresh, isEnded: async () => false, discard: async () => {}, leaseMs: 1_000, followMs: 1_000 });
    await expect(coordinate(due())).rejects.toMatchObject({ code: "coordination_unavailable" });
    expect(refresh).not.toHaveBeenCalled();
    unreachable.disconnect();
  });

  it("is unavailable while the list of ended sessions cannot be read", async () => {
    const a = await instance({ isEnded: vi.fn(async () => Promise.reject(new Error("list unreadable"))) });
    await expect(a.coordinate(due())).rejects.toMatchObject({ code: "coordination_unavailable" });
    expect(a.refresh).not.toHaveBeenCalled();
  });

  describe("counted in tessera.refreshes as the middleware counts on one instance", () => {
    const telemetry = useTelemetry({ traces: false });
    const refreshes = () => telemetry.collectMetric("tessera.refreshes");

    it("counts the leader's refresh at the IdP once, and another instance's adoption of its published result as grace_cache", async () => {
      const a = await instance({ refresh: idpRefresh(async (session) => successorOf(session)) });
      const b = await instance();
      const session = due();
      await a.coordinate(session);
      expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "refreshed" }, value: 1 }]);
      await b.coordinate(session);
      await a.coordinate(session);
      expect(await refreshes()).toEqual(
        expect.arrayContaining([
          { attributes: { "tessera.outcome": "refreshed" }, value: 1 },
          { attributes: { "tessera.outcome": "grace_cache" }, value: 2 },
        ]),
      );
      expect(b.refresh).not.toHaveBeenCalled();
    });

    it("counts a request that waited for another instance's refresh as joined", async () => {
      const { slowRefresh, release } = heldRefresh();
      const a = await instance({ refresh: slowRefresh });
      const b = await instance({ refresh: slowRefresh });
      const claims = vi.spyOn(b.client, "eval");
      const session = due();
      const leading = a.coordinate(session);
      await vi.waitFor(() => expect(slowRefresh).toHaveBeenCalledTimes(1));
      const following = b.coordinate(session);
      // b has found the lock taken, and polled again.
      await vi.waitFor(() => expect(claims.mock.calls.length).toBeGreaterThanOrEqual(2));
      release();
      expect((await following).refreshToken).toBe((await leading).refreshToken);
      expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "joined" }, value: 1 }]);
    });

    it("counts an old cookie whose rotated token is spent, its successor forgotten, as superseded", async () => {
      const a = await instance();
      const b = await instance();
      const session = due();
      await a.coordinate(session);
      const result = (await stored()).find(({ key }) => key.endsWith(":result"))!;
      await redis.del(result.key);
      await expect(b.coordinate(session)).rejects.toMatchObject({ code: "refresh_token_spent" });
      expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "superseded" }, value: 1 }]);
    });

    it("does not count another instance's refusal again when it reads its spent mark: the refusing instance counted it", async () => {
      const a = await instance({ refresh: vi.fn(async () => Promise.reject(refusal("invalid_grant"))) });
      const b = await instance();
      const session = due();
      await expect(a.coordinate(session)).rejects.toMatchObject({ code: "invalid_grant" });
      expect(await refreshes()).toEqual([]);
      await expect(b.coordinate(session)).rejects.toMatchObject({ code: "invalid_grant" });
      expect(await refreshes()).toEqual([]);
    });

    it("counts coordination_unavailable when Redis cannot be reached", async () => {
      vi.spyOn(console, "error").mockImplementation(() => {});
      const unreachable = connectRedis(new URL("redis://127.0.0.1:1"));
      const coordinate = createCoordinator({ redis: unreachable, secret: SECRET, refresh: async (session) => successorOf(session), isEnded: async () => false, discard: async () => {}, leaseMs: 1_000, followMs: 1_000 });
      await expect(coordinate(due())).rejects.toMatchObject({ code: "coordination_unavailable" });
      unreachable.disconnect();
      expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "coordination_unavailable" }, value: 1 }]);
    });

    it("counts coordination_unavailable when the leader does not finish within the follow deadline, or the list of ended sessions cannot be read", async () => {
      const session = due();
      const a = await instance({ followMs: 50 });
      await redis.set(lockOf(session), "slow-leader", "PX", 10_000);
      await expect(a.coordinate(session)).rejects.toMatchObject({ code: "coordination_unavailable" });
      const b = await instance({ isEnded: vi.fn(async () => Promise.reject(new Error("list unreadable"))) });
      await expect(b.coordinate(due())).rejects.toMatchObject({ code: "coordination_unavailable" });
      expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "coordination_unavailable" }, value: 2 }]);
    });

    it("counts a session signed out on another instance as an ended-session refusal, not a refresh", async () => {
      const a = await instance({ isEnded: vi.fn(async () => true) });
      await expect(a.coordinate(due())).rejects.toMatchObject({ code: "session_ended" });
      expect(await refreshes()).toEqual([]);
      expect(await telemetry.collectMetric("tessera.session.ended_refusals")).toEqual([{ attributes: {}, value: 1 }]);
    });
  });
});
