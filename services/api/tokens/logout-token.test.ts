import { beforeAll, describe, expect, it } from "vitest";
import { MAX_LOGOUT_TOKEN_AGE, verifyLogoutToken, type VerifyLogoutTokenOptions } from "./logout-token";
import { TokenError } from "./signed-token";
import { createTestIssuer, TEST_CLIENT, TEST_ISSUER, type TestIssuer } from "../testing/test-issuer";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer("RS256");
});

const NOW = Math.floor(Date.now() / 1000);

const options = (overrides: Partial<VerifyLogoutTokenOptions> = {}): VerifyLogoutTokenOptions => ({
  getKey: issuer.getKey,
  issuer: TEST_ISSUER,
  audiences: [TEST_CLIENT],
  clockTolerance: 5,
  now: () => NOW * 1000,
  ...overrides,
});

const verify = async (claims: Record<string, unknown>, overrides?: Partial<VerifyLogoutTokenOptions>) =>
  verifyLogoutToken(await issuer.mintLogoutToken({ claims: { iat: NOW, exp: NOW + 120, ...claims } }), options(overrides));

describe("verifyLogoutToken", () => {
  it("returns the session, the subject and the jti", async () => {
    expect(await verify({ jti: "j-1", sid: "s-1", sub: "alice" })).toEqual({
      jti: "j-1",
      sid: "s-1",
      sub: "alice",
      issuedAt: NOW,
      acceptableUntil: NOW + 120 + 5,
    });
  });

  it("returns a subject alone, or a session alone", async () => {
    expect(await verify({ jti: "j", sid: undefined })).toEqual({ jti: "j", sub: "alice", issuedAt: NOW, acceptableUntil: NOW + 125 });
    expect(await verify({ jti: "j", sub: undefined })).toEqual({ jti: "j", sid: "session-alice", issuedAt: NOW, acceptableUntil: NOW + 125 });
  });

  it("dates the logout by its iat, in whole seconds, even when the IdP's clock runs ahead of ours within the tolerance", async () => {
    expect((await verify({ iat: NOW - 60.5 })).issuedAt).toBe(NOW - 61);
    expect((await verify({ iat: NOW + 5 })).issuedAt).toBe(NOW + 5);
    await expect(verify({ iat: NOW + 6 })).rejects.toThrow(expect.objectContaining({ code: "issued_in_future" }));
  });

  it("bounds acceptableUntil by the maximum age when exp is later or absent", async () => {
    const longLived = await verify({ exp: NOW + 3600 });
    expect(longLived.acceptableUntil).toBe(NOW + MAX_LOGOUT_TOKEN_AGE + 5);
    const noExp = await verify({ exp: undefined, iat: NOW - 100 });
    expect(noExp.acceptableUntil).toBe(NOW - 100 + MAX_LOGOUT_TOKEN_AGE + 5);
  });

  it("accepts a token at the maximum age plus tolerance, and not a second later", async () => {
    const claims = { iat: NOW - MAX_LOGOUT_TOKEN_AGE - 5, exp: NOW + 60 };
    await expect(verify(claims)).resolves.toBeDefined();
    await expect(verify(claims, { now: () => (NOW + 1) * 1000 })).rejects.toThrow(
      expect.objectContaining({ name: "TokenError", code: "stale" }),
    );
  });

  it("accepts any of the trusted audiences", async () => {
    await expect(verify({ aud: "tessera-admin" }, { audiences: [TEST_CLIENT, "tessera-admin"] })).resolves.toBeDefined();
    await expect(verify({ aud: "tessera-admin" })).rejects.toBeInstanceOf(TokenError);
  });
});
