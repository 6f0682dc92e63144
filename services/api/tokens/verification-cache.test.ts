import { beforeAll, describe, expect, it, vi } from "vitest";
import type { AccessToken } from "./access-token";
import { TokenError } from "./signed-token";
import { createTestApi } from "../testing/test-api";
import { startTestTelemetry } from "../testing/test-telemetry";
import { createTestIssuer, type TestIssuer } from "../testing/test-issuer";
import { createVerificationCache } from "./verification-cache";

const T0 = 1_700_000_000;

const verified = (jti: string, exp = T0 + 300): AccessToken => ({ sub: "alice", scopes: [], exp, iat: T0, jti });

/** A verifier that accepts any token, naming it by its text, and counts its calls. */
function stubVerifier(exp = T0 + 300) {
  return vi.fn(async (token: string) => verified(token, exp));
}

describe("createVerificationCache", () => {
  it("verifies a token once and answers repeats from the cache", async () => {
    const verify = stubVerifier();
    const cached = createVerificationCache(verify, { now: () => T0 * 1000 });
    expect(await cached("a")).toEqual(verified("a"));
    expect(await cached("a")).toEqual(verified("a"));
    expect(await cached("b")).toEqual(verified("b"));
    expect(verify.mock.calls).toEqual([["a"], ["b"]]);
  });

  it("does not use an entry once the token's exp has come", async () => {
    let clock = T0 * 1000;
    const verify = vi
      .fn<(token: string) => Promise<AccessToken>>()
      .mockResolvedValueOnce(verified("a", T0 + 60))
      .mockRejectedValueOnce(new TokenError("expired", "exp passed"));
    const cached = createVerificationCache(verify, { now: () => clock });
    await cached("a");
    clock = (T0 + 59) * 1000;
    expect(cached("a")).toEqual(verified("a", T0 + 60));
    clock = (T0 + 60) * 1000;
    await expect(cached("a")).rejects.toMatchObject({ code: "expired" });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it("does not cache failures", async () => {
    const verify = vi
      .fn<(token: string) => Promise<AccessToken>>()
      .mockRejectedValueOnce(new TokenError("keys_unavailable", "IdP down"))
      .mockResolvedValueOnce(verified("a"));
    const cached = createVerificationCache(verify, { now: () => T0 * 1000 });
    await expect(cached("a")).rejects.toMatchObject({ code: "keys_unavailable" });
    await expect(cached("a")).resolves.toEqual(verified("a"));
  });

  it("answers a hit at once, not with a promise", async () => {
    const cached = createVerificationCache(stubVerifier(), { now: () => T0 * 1000 });
    expect(cached("a")).toBeInstanceOf(Promise);
    await cached("a");
    expect(cached("a")).toEqual(verified("a"));
  });

  it("keeps at most maxEntries, dropping the entry stored first however recently it was used", async () => {
    const verify = stubVerifier();
    const cached = createVerificationCache(verify, { maxEntries: 2, now: () => T0 * 1000 });
    await cached("a");
    await cached("b");
    await cached("a");
    await cached("c");
    verify.mockClear();
    await cached("b");
    await cached("c");
    expect(verify).not.toHaveBeenCalled();
    await cached("a");
    expect(verify.mock.calls).toEqual([["a"]]);
  });

  it("takes no room for a token verified twice at once", async () => {
    const verify = stubVerifier();
    const cached = createVerificationCache(verify, { maxEntries: 2, now: () => T0 * 1000 });
    await cached("a");
    await Promise.all([cached("b"), cached("b")]);
    verify.mockClear();
    await cached("a");
    await cached("b");
    expect(verify).not.toHaveBeenCalled();
  });

  it("forgets an entry whose token has expired, so it does not take a place", async () => {
    let clock = T0 * 1000;
    const verify = vi
      .fn<(token: string) => Promise<AccessToken>>()
      .mockImplementation(async (token) => verified(token, token === "short" ? T0 + 10 : T0 + 300));
    const cached = createVerificationCache(verify, { maxEntries: 2, now: () => clock });
    await cached("b");
    await cached("short");
    clock = (T0 + 10) * 1000;
    verify.mockRejectedValueOnce(new TokenError("expired", "exp passed"));
    await expect(cached("short")).rejects.toMatchObject({ code: "expired" });
    await cached("c");
    verify.mockClear();
    await cached("b");
    expect(verify).not.toHaveBeenCalled();
  });
});

describe("the verification cache in the API", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer();
  });

  it("still refuses a revoked token whose verification is cached", async () => {
    const getKey = vi.fn(issuer.getKey);
    const api = createTestApi(issuer, { cacheVerifications: true, verify: { getKey } });
    const token = await issuer.mint({ claims: { sid: "session-cached" } });
    expect((await api.request("GET", "/me", { token })).status).toBe(200);
    expect((await api.request("GET", "/me", { token })).status).toBe(200);
    expect(getKey).toHaveBeenCalledTimes(1);

    const t = Math.floor(Date.now() / 1000);
    await api.revocations.revoke({ sid: "session-cached", issuedUpTo: t + 5, until: t + 600 });
    expect((await api.request("GET", "/me", { token })).status).toBe(401);
    expect(getKey).toHaveBeenCalledTimes(1);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code: "revoked" }));
  });
});

describe("createVerificationCache with telemetry on", () => {
  it("counts every look-up as a hit or a miss, an expired entry a miss", async () => {
    const telemetry = startTestTelemetry({ traces: undefined });
    try {
      let clock = T0 * 1000;
      const cached = createVerificationCache(stubVerifier(T0 + 60), { now: () => clock });
      await cached("a");
      await cached("a");
      await cached("a");
      await cached("b");
      clock = (T0 + 60) * 1000;
      await cached("a");
      expect(await telemetry.points("tessera.api.verification_cache.lookups")).toEqual([
        { attributes: { "tessera.cache.result": "miss" }, value: 3 },
        { attributes: { "tessera.cache.result": "hit" }, value: 2 },
      ]);
    } finally {
      await telemetry.stop();
    }
  });
});
