import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { RevocationQuery, RevocationStore } from "../revocation/store";

/**
 * What every revocation store must do, on the real clock. Each implementation's own test file runs it and adds
 * what depends on how the store keeps time.
 */
export function describeRevocationStoreContract(name: string, create: () => Promise<RevocationStore> | RevocationStore) {
  describe(`${name} revocation store`, () => {
    let store: RevocationStore;
    let t: number;
    // Values unique to each test, so stores shared between tests cannot leak one test's entries into another.
    let id: (label: string) => string;
    const token = (overrides: Partial<RevocationQuery> = {}): RevocationQuery => ({
      jti: id("jti"),
      sub: id("alice"),
      iat: t - 10,
      ...overrides,
    });

    beforeEach(async () => {
      store = await create();
      t = Math.floor(Date.now() / 1000);
      const run = randomUUID();
      id = (label) => `${label}-${run}`;
    });

    it("knows nothing at first", async () => {
      expect(await store.isRevoked(token({ sid: id("s") }))).toBe(false);
    });

    it("revokes one token by jti and no other", async () => {
      await store.revoke({ jti: id("a"), until: t + 300 });
      expect(await store.isRevoked(token({ jti: id("a") }))).toBe(true);
      expect(await store.isRevoked(token({ jti: id("a"), sid: id("s") }))).toBe(true);
      expect(await store.isRevoked(token({ jti: id("b"), sid: id("s") }))).toBe(false);
    });

    it("revokes the tokens a session was issued up to a moment, and none the same sid brings later", async () => {
      await store.revoke({ sid: id("s"), issuedUpTo: t, until: t + 3600 });
      expect(await store.isRevoked(token({ jti: id("a"), sid: id("s"), iat: t - 100 }))).toBe(true);
      expect(await store.isRevoked(token({ jti: id("b"), sid: id("s"), iat: t }))).toBe(true);
      // The IdP's SSO session outlived the sign-out and signed the user in again under the same sid.
      expect(await store.isRevoked(token({ jti: id("c"), sid: id("s"), iat: t + 1 }))).toBe(false);
      expect(await store.isRevoked(token({ jti: id("a"), sid: id("other"), iat: t - 100 }))).toBe(false);
      expect(await store.isRevoked(token({ jti: id("a"), iat: t - 100 }))).toBe(false);
    });

    it("moves a session's cut-off forward, never back", async () => {
      await store.revoke({ sid: id("s"), issuedUpTo: t, until: t + 3600 });
      await store.revoke({ sid: id("s"), issuedUpTo: t - 50, until: t + 3600 });
      expect(await store.isRevoked(token({ sid: id("s"), iat: t }))).toBe(true);
      await store.revoke({ sid: id("s"), issuedUpTo: t + 20, until: t + 3600 });
      expect(await store.isRevoked(token({ sid: id("s"), iat: t + 20 }))).toBe(true);
      expect(await store.isRevoked(token({ sid: id("s"), iat: t + 21 }))).toBe(false);
    });

    it("revokes the tokens a subject was issued up to a moment, and none issued later", async () => {
      await store.revoke({ sub: id("alice"), issuedUpTo: t, until: t + 3600 });
      expect(await store.isRevoked(token({ iat: t - 100 }))).toBe(true);
      expect(await store.isRevoked(token({ iat: t, sid: id("any session") }))).toBe(true);
      expect(await store.isRevoked(token({ iat: t + 1 }))).toBe(false);
      expect(await store.isRevoked(token({ sub: id("bob"), iat: t - 100 }))).toBe(false);
    });

    it("moves a subject's cut-off forward, never back", async () => {
      await store.revoke({ sub: id("alice"), issuedUpTo: t, until: t + 3600 });
      await store.revoke({ sub: id("alice"), issuedUpTo: t - 50, until: t + 3600 });
      expect(await store.isRevoked(token({ iat: t }))).toBe(true);
      await store.revoke({ sub: id("alice"), issuedUpTo: t + 20, until: t + 3600 });
      expect(await store.isRevoked(token({ iat: t + 20 }))).toBe(true);
      expect(await store.isRevoked(token({ iat: t + 21 }))).toBe(false);
    });

    it("keeps jti, sid and sub entries apart", async () => {
      await store.revoke({ sid: id("x"), issuedUpTo: t, until: t + 60 });
      await store.revoke({ sub: id("y"), issuedUpTo: t, until: t + 60 });
      expect(await store.isRevoked(token({ jti: id("x"), sub: id("x") }))).toBe(false);
      expect(await store.isRevoked(token({ jti: id("y"), sid: id("y") }))).toBe(false);
    });

    it("ignores a revocation whose until has already passed", async () => {
      await store.revoke({ jti: id("a"), until: t - 1 });
      await store.revoke({ sid: id("s"), issuedUpTo: t, until: t - 1 });
      await store.revoke({ sub: id("alice"), issuedUpTo: t, until: t - 1 });
      expect(await store.isRevoked(token({ jti: id("a"), sid: id("s") }))).toBe(false);
    });

    it("acts on a one-time message once, and records nothing for a replay", async () => {
      const message = { jti: id("logout"), until: t + 300 };
      expect(await store.revokeOnce({ sid: id("s1"), issuedUpTo: t, until: t + 3600 }, message)).toBe(true);
      expect(await store.isRevoked(token({ sid: id("s1") }))).toBe(true);

      expect(await store.revokeOnce({ sid: id("s2"), issuedUpTo: t, until: t + 3600 }, message)).toBe(false);
      expect(await store.isRevoked(token({ sid: id("s2") }))).toBe(false);

      expect(await store.revokeOnce({ sid: id("s2"), issuedUpTo: t, until: t + 3600 }, { jti: id("another"), until: t + 300 })).toBe(true);
      expect(await store.isRevoked(token({ sid: id("s2") }))).toBe(true);
    });

    it("lets exactly one of several concurrent deliveries of a message through", async () => {
      const message = { jti: id("logout"), until: t + 300 };
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => store.revokeOnce({ sub: id("alice"), issuedUpTo: t, until: t + 3600 }, message)),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });
  });
}
