import { SignJWT, UnsecuredJWT, errors } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKCHANNEL_LOGOUT_EVENT, createLogoutTokenVerifier, LogoutTokenError, MAX_LOGOUT_TOKEN_AGE, type LogoutToken } from "./logout-token";
import { createTestIdp, TEST_CLIENT_ID, TEST_ISSUER, type TestIdp } from "@/lib/testing/logout-tokens";

const NOW = 1_900_000_000;

let idp: TestIdp;
let verify: (token: string) => Promise<LogoutToken>;

beforeAll(async () => {
  idp = await createTestIdp();
  verify = createLogoutTokenVerifier({ issuer: TEST_ISSUER, clientId: TEST_CLIENT_ID, getKey: idp.getKey, now: () => NOW * 1000 });
});

const token = (...args: Parameters<TestIdp["logoutToken"]>) => {
  const [claims, options] = args;
  return idp.logoutToken(claims, { nowSeconds: NOW, ...options });
};

async function refusal(promise: Promise<unknown>): Promise<LogoutTokenError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LogoutTokenError);
  return error as LogoutTokenError;
}

const invalid = async (promise: Promise<unknown>) => expect((await refusal(promise)).code).toBe("invalid_logout_token");

describe("createLogoutTokenVerifier", () => {
  it("accepts the IdP's logout token and returns its jti, sid and sub", async () => {
    const verified = await verify(await token({ jti: "j-1" }));
    expect(verified).toEqual({ jti: "j-1", issuedAt: NOW, sid: "sid-1", sub: "alice", acceptableUntil: NOW + 120 + 5 });
  });

  it("accepts a token that names only a session", async () => {
    expect(await verify(await token({ sub: undefined }))).toMatchObject({ sid: "sid-1" });
  });

  it("accepts a token that names only a subject, and says when the IdP issued it", async () => {
    const verified = await verify(await token({ sid: undefined, iat: NOW - 30 }));
    expect(verified.sid).toBeUndefined();
    expect(verified.sub).toBe("alice");
    expect(verified.issuedAt).toBe(NOW - 30);
    expect((await verify(await token({ iat: NOW - 30.7 }))).issuedAt).toBe(NOW - 31);
  });

  it("accepts a token without typ, and typ application/logout+jwt", async () => {
    await expect(verify(await token({}, { typ: null }))).resolves.toMatchObject({ sid: "sid-1" });
    await expect(verify(await token({}, { typ: "application/logout+jwt" }))).resolves.toMatchObject({ sid: "sid-1" });
  });

  it("remembers the jti only as long as the token's age limit, when the token has no exp", async () => {
    expect((await verify(await token({ exp: undefined }))).acceptableUntil).toBe(NOW + MAX_LOGOUT_TOKEN_AGE + 5);
  });

  it("accepts a token a little from the future, within the clock tolerance", async () => {
    await expect(verify(await token({ iat: NOW + 4 }))).resolves.toMatchObject({ sid: "sid-1" });
  });

  describe("refuses as invalid", () => {
    it("a token signed by another key", async () => {
      await invalid(verify(await token({}, { key: idp.otherKey })));
    });

    it("an unsigned token", async () => {
      const unsigned = new UnsecuredJWT({ sid: "sid-1", jti: "j", events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_CLIENT_ID)
        .setIssuedAt(NOW)
        .encode();
      await invalid(verify(unsigned));
    });

    it("an HS256 token, whatever the secret", async () => {
      const hs256 = await new SignJWT({ sid: "sid-1", jti: "j", events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
        .setProtectedHeader({ alg: "HS256", kid: "idp-key-1" })
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_CLIENT_ID)
        .setIssuedAt(NOW)
        .sign(new TextEncoder().encode("the-client-secret-0123456789-0123456789"));
      await invalid(verify(hs256));
    });

    it("something that is not a JWT at all", async () => {
      await invalid(verify("not-a-token"));
    });

    it("a token from another issuer", async () => {
      await invalid(verify(await token({ iss: "https://evil.example" })));
    });

    it("a token for another client", async () => {
      await invalid(verify(await token({ aud: "another-client" })));
    });

    it("a token issued more than five minutes ago", async () => {
      await invalid(verify(await token({ iat: NOW - MAX_LOGOUT_TOKEN_AGE - 6, exp: NOW + 60 })));
    });

    it("a token issued in the future", async () => {
      await invalid(verify(await token({ iat: NOW + 60 })));
    });

    it("an expired token", async () => {
      await invalid(verify(await token({ iat: NOW - 100, exp: NOW - 30 })));
    });

    it("a token without iat", async () => {
      await invalid(verify(await token({ iat: undefined })));
    });

    it("an ID token: no events claim, and typ JWT", async () => {
      await invalid(verify(await token({ events: undefined }, { typ: "JWT" })));
      await invalid(verify(await token({ events: undefined }, { typ: null })));
    });

    it("a token whose typ says it is something else", async () => {
      await invalid(verify(await token({}, { typ: "at+jwt" })));
    });

    it("events without the back-channel logout event, or with it not an object", async () => {
      await invalid(verify(await token({ events: { "http://schemas.openid.net/event/other": {} } })));
      await invalid(verify(await token({ events: { [BACKCHANNEL_LOGOUT_EVENT]: "yes" } })));
      await invalid(verify(await token({ events: [BACKCHANNEL_LOGOUT_EVENT] })));
    });

    it("a token with a nonce", async () => {
      await invalid(verify(await token({ nonce: "n-1" })));
    });

    it("a token without jti, or with a jti that is not a string", async () => {
      await invalid(verify(await token({ jti: undefined })));
      await invalid(verify(await token({ jti: 42 as unknown as string })));
    });

    it("a token with neither sid nor sub", async () => {
      await invalid(verify(await token({ sid: undefined, sub: undefined })));
    });

    it("a token whose sid is empty or not a string", async () => {
      await invalid(verify(await token({ sid: "" })));
      await invalid(verify(await token({ sid: 7 })));
    });
  });

  describe("when the IdP's keys cannot be had", () => {
    it.each([
      ["a timeout", new errors.JWKSTimeout()],
      ["a network error", new TypeError("fetch failed")],
      ["a broken key set", new errors.JWKSInvalid()],
    ])("reports keys_unavailable on %s, not an invalid token", async (_label, failure) => {
      const unreachable = createLogoutTokenVerifier({
        issuer: TEST_ISSUER,
        clientId: TEST_CLIENT_ID,
        getKey: async () => {
          throw failure;
        },
        now: () => NOW * 1000,
      });
      const error = await refusal(unreachable(await token()));
      expect(error.code).toBe("keys_unavailable");
      expect(error.cause).toBe(failure);
    });
  });
});
