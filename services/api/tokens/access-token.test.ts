import { CompactSign, exportSPKI, SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parseAuthorization, verifyAccessToken, type VerifyAccessTokenOptions } from "./access-token";
import { MAX_TOKEN_LENGTH, TokenError, type TokenErrorCode } from "./signed-token";
import {
  createSigningKey,
  createTestIssuer,
  decodeSegment,
  forgeToken,
  nowSeconds,
  TEST_AUDIENCE,
  TEST_CLIENT,
  TEST_ISSUER,
  testVerifyOptions,
  type TestIssuer,
} from "../testing/test-issuer";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const options = (overrides: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions => testVerifyOptions(issuer, overrides);

async function rejection(token: string, overrides?: Partial<VerifyAccessTokenOptions>): Promise<TokenErrorCode> {
  try {
    await verifyAccessToken(token, options(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    return (error as TokenError).code;
  }
  throw new Error("token was accepted");
}

describe("parseAuthorization", () => {
  it("returns the token of a Bearer header, whatever the scheme's case", () => {
    expect(parseAuthorization("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseAuthorization("bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(parseAuthorization("BEARER a-b_c~d+e/f==")).toBe("a-b_c~d+e/f==");
  });

  it.each([
    ["an absent header", undefined],
    ["a null header", null],
    ["another scheme", "Basic YWxpY2U6d29uZGVybGFuZA=="],
    ["another scheme carrying a JWT", "DPoP aaa.bbb.ccc"],
    ["an empty header", ""],
    ["a scheme glued to the token", "Bearertoken"],
    ["a parameter named bearer of another scheme", 'Digest username="a", bearer="aaa.bbb.ccc"'],
  ])("reports %s as no bearer credentials", (_, header) => {
    expect(() => parseAuthorization(header)).toThrow(expect.objectContaining({ code: "missing_token" }));
  });

  it.each([
    ["the scheme alone", "Bearer"],
    ["the scheme and a space", "Bearer "],
    ["two values joined by a comma", "Bearer aaa.bbb.ccc, Bearer ddd.eee.fff"],
    ["a token with trailing words", "Bearer aaa.bbb.ccc extra"],
    ["a token with characters outside b64token", "Bearer aaa.bbb.ccc;drop"],
    ["a token after a tab", "Bearer\taaa.bbb.ccc"],
    ["a Bearer value after another scheme's", "Basic YWxpY2U6d29uZGVybGFuZA==, bearer aaa.bbb.ccc"],
    ["the scheme alone after another scheme's value", "Basic YWxpY2U6d29uZGVybGFuZA==, Bearer"],
  ])("refuses %s as malformed", (_, header) => {
    expect(() => parseAuthorization(header)).toThrow(expect.objectContaining({ code: "malformed_authorization" }));
  });
});

describe("verifyAccessToken", () => {
  it("returns the claims the API relies on", async () => {
    const token = await issuer.mint({ claims: { sub: "alice", jti: "jti-1" } });
    const verified = await verifyAccessToken(token, options());
    expect(verified).toEqual({
      sub: "alice",
      scopes: ["openid", "notes:read", "notes:write"],
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: "jti-1",
      sid: "session-alice",
      clientId: "tessera-web",
    });
  });

  it("leaves sid and clientId out when the token has none, and yields no scopes without a scope claim", async () => {
    const token = await issuer.mint({ claims: { sid: undefined, client_id: undefined, scope: undefined } });
    const verified = await verifyAccessToken(token, options());
    expect(verified.scopes).toEqual([]);
    expect(verified).not.toHaveProperty("sid");
    expect(verified).not.toHaveProperty("clientId");
  });

  it.each(["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const)("accepts %s", async (alg) => {
    const other = await createTestIssuer(alg);
    const token = await other.mint();
    await expect(verifyAccessToken(token, options({ getKey: other.getKey }))).resolves.toMatchObject({ sub: "alice" });
  });

  it("refuses an asymmetric algorithm outside the allowlist", async () => {
    const other = await createTestIssuer("RS384");
    expect(await rejection(await other.mint(), { getKey: other.getKey })).toBe("unsupported_alg");
  });

  describe("algorithm confusion", () => {
    it("refuses alg none", async () => {
      const good = decodeSegment((await issuer.mint()).split(".")[1]);
      expect(await rejection(forgeToken({ alg: "none", typ: "at+jwt" }, good))).toBe("unsupported_alg");
      expect(await rejection(forgeToken({ alg: "NONE", typ: "at+jwt" }, good))).toBe("unsupported_alg");
    });

    it("refuses a token signed with HS256 using the issuer's public key as the secret", async () => {
      const key = await createSigningKey("RS256");
      const getKey = vi.fn(issuer.getKey);
      const publicKeyPem = await exportSPKI(key.publicKey);
      const forged = await new SignJWT({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: "mallory", jti: "x" })
        .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "at+jwt" })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(publicKeyPem));
      expect(await rejection(forged, { getKey })).toBe("unsupported_alg");
      expect(getKey).not.toHaveBeenCalled();
    });
  });

  describe("integrity", () => {
    it("refuses an altered signature", async () => {
      const [h, p, s = ""] = (await issuer.mint()).split(".");
      const flipped = s.slice(0, 10) + (s[10] === "A" ? "B" : "A") + s.slice(11);
      expect(await rejection(`${h}.${p}.${flipped}`)).toBe("bad_signature");
    });

    it("refuses an altered payload", async () => {
      const [h, p, s] = (await issuer.mint({ claims: { sub: "alice" } })).split(".");
      const payload = { ...decodeSegment(p), sub: "bob" };
      expect(await rejection(`${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`)).toBe("bad_signature");
    });

    it("refuses a token signed by a key the issuer never published", async () => {
      const stranger = await createSigningKey("ES256", "stranger");
      expect(await rejection(await issuer.mint({ key: stranger }))).toBe("unknown_key");
    });

    it("refuses a token signed by another key under a published kid", async () => {
      const published = issuer.jwks().keys[0]?.kid as string;
      const impostor = await createSigningKey("ES256", published);
      expect(await rejection(await issuer.mint({ key: impostor }))).toBe("bad_signature");
    });

    it.each(["../../../../etc/passwd", "' OR '1'='1' --", "k1\"; DROP TABLE keys; --", "%2e%2e%2fjwks"])(
      "refuses the kid %j as unknown",
      async (kid) => {
        const key = await createSigningKey("ES256", kid);
        expect(await rejection(await issuer.mint({ key }))).toBe("unknown_key");
      },
    );

    it("never takes a key from jku, x5u, jwk or x5c", async () => {
      const attacker = await createSigningKey("ES256", "attacker");
      const getKey = vi.fn(issuer.getKey);
      const headers = [
        { jwk: attacker.publicJwk },
        { jku: "https://attacker.test/jwks.json" },
        { x5u: "https://attacker.test/cert.pem" },
        { x5c: ["MIIBattacker"] },
      ];
      for (const header of headers) {
        const anonymous = await issuer.mint({ key: attacker, header: { ...header, kid: undefined } });
        const borrowedKid = await issuer.mint({ key: attacker, header: { ...header, kid: issuer.jwks().keys[0]?.kid } });
        expect(await rejection(anonymous, { getKey })).toBe("bad_signature");
        expect(await rejection(borrowedKid, { getKey })).toBe("bad_signature");
      }
      expect(getKey).toHaveBeenCalledTimes(headers.length * 2);
      for (const [header] of getKey.mock.calls) expect(Object.keys(header).sort()).toEqual(["alg", "kid"]);
    });

    it("accepts tokens of earlier keys after a rotation, and tokens of the new key", async () => {
      const rotating = await createTestIssuer();
      const before = await rotating.mint();
      const fresh = await rotating.rotate();
      const after = await rotating.mint();
      expect(decodeSegment(after.split(".")[0]).kid).toBe(fresh.kid);
      await expect(verifyAccessToken(before, options({ getKey: rotating.getKey }))).resolves.toBeDefined();
      await expect(verifyAccessToken(after, options({ getKey: rotating.getKey }))).resolves.toBeDefined();
    });
  });

  describe("shape and size", () => {
    it("refuses a token over the size cap before looking for a key", async () => {
      const getKey = vi.fn(issuer.getKey);
      const huge = await issuer.mint({ claims: { padding: "x".repeat(64 * 1024) } });
      expect(huge.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
      expect(await rejection(huge, { getKey })).toBe("token_too_large");
      expect(getKey).not.toHaveBeenCalled();
    });

    it("refuses an oversized header before looking for a key", async () => {
      const getKey = vi.fn(issuer.getKey);
      const token = await issuer.mint({ header: { padding: "x".repeat(3000) } });
      expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
      expect(await rejection(token, { getKey })).toBe("token_too_large");
      expect(getKey).not.toHaveBeenCalled();
    });

    it.each([
      ["garbage", "not-a-token"],
      ["a garbage header", "abc.def.ghi"],
      ["two segments", "eyJhbGciOiJFUzI1NiJ9.e30"],
      ["a JWE-shaped token", "a.b.c.d.e"],
      ["a header that is JSON but not an object", `${Buffer.from("[1]").toString("base64url")}.e30.sig`],
    ])("refuses %s as malformed", async (_, token) => {
      expect(await rejection(token)).toBe("malformed_token");
    });

    it("refuses a correctly signed payload that is not a JSON object", async () => {
      const local = await createTestIssuer();
      const key = await local.rotate();
      const token = await new CompactSign(new TextEncoder().encode("not json"))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
        .sign(key.privateKey);
      expect(await rejection(token, { getKey: local.getKey })).toBe("malformed_token");
    });
  });

  describe("token type", () => {
    it("accepts at+jwt whatever its case and prefix", async () => {
      for (const typ of ["at+jwt", "AT+JWT", "application/at+jwt"]) {
        await expect(verifyAccessToken(await issuer.mint({ header: { typ } }), options())).resolves.toBeDefined();
      }
    });

    it("refuses typ JWT by default and accepts it when configured", async () => {
      const token = await issuer.mint({ header: { typ: "JWT" } });
      expect(await rejection(token)).toBe("unsupported_typ");
      await expect(verifyAccessToken(token, options({ acceptedTypes: ["at+jwt", "JWT"] }))).resolves.toBeDefined();
    });

    it("refuses a token without typ", async () => {
      expect(await rejection(await issuer.mint({ header: { typ: undefined } }))).toBe("unsupported_typ");
    });

    it("refuses an ID token, even where typ JWT is accepted", async () => {
      const idToken = await issuer.mint({
        header: { typ: "JWT" },
        claims: { aud: "tessera-web", nonce: "n-0S6_WzA2Mj", scope: undefined },
      });
      expect(await rejection(idToken)).toBe("unsupported_typ");
      expect(await rejection(idToken, { acceptedTypes: ["at+jwt", "JWT"] })).toBe("wrong_audience");
    });
  });

  describe("ID tokens presented as access tokens", () => {
    const jwt = (claims: Record<string, unknown>) => issuer.mint({ header: { typ: "JWT" }, claims });
    const relaxed = { acceptedTypes: ["at+jwt", "JWT"] };

    it.each([
      ["a nonce", { nonce: "n-0S6_WzA2Mj" }],
      ["an empty nonce", { nonce: "" }],
      ["an at_hash", { at_hash: "77QmUPtjPfzWtF2AnpK9RQ" }],
      ["a c_hash", { c_hash: "LDktKdoQak3Pk0cnXxCltA" }],
      ["the client as audience beside the API", { aud: [TEST_AUDIENCE, TEST_CLIENT] }],
      ["another of the apps as audience beside the API", { aud: ["tessera-admin", TEST_AUDIENCE] }],
      ["an ID token shape: client and API as audiences, a nonce, no scope", { aud: [TEST_CLIENT, TEST_AUDIENCE], nonce: "n", scope: undefined }],
    ])("refuses a token with %s, whatever its typ", async (_, claims) => {
      const clientIds = [TEST_CLIENT, "tessera-admin"];
      expect(await rejection(await jwt(claims), { ...relaxed, clientIds })).toBe("id_token_presented");
      expect(await rejection(await issuer.mint({ claims }), { clientIds })).toBe("id_token_presented");
    });

    it("accepts a typ JWT access token addressed to the API and other resources, but no client", async () => {
      const token = await jwt({ aud: [TEST_AUDIENCE, "https://other-api.test"] });
      await expect(verifyAccessToken(token, options(relaxed))).resolves.toMatchObject({ sub: "alice" });
    });
  });

  describe("claims", () => {
    it("refuses an expired token", async () => {
      expect(await rejection(await issuer.mint({ claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 60 } }))).toBe("expired");
    });

    it("allows the clock tolerance on exp, and no more", async () => {
      const now = Date.now();
      const exp = Math.floor(now / 1000);
      const token = await issuer.mint({ claims: { iat: exp - 300, exp } });
      await expect(verifyAccessToken(token, options({ now: () => now + 3000 }))).resolves.toBeDefined();
      expect(await rejection(token, { now: () => now + 10_000 })).toBe("expired");
    });

    it("refuses a token whose nbf is in the future", async () => {
      expect(await rejection(await issuer.mint({ claims: { nbf: nowSeconds() + 120 } }))).toBe("not_yet_valid");
    });

    it("refuses a token issued far in the future, but tolerates small skew", async () => {
      expect(await rejection(await issuer.mint({ claims: { iat: nowSeconds() + 3600, exp: nowSeconds() + 3900 } }))).toBe(
        "issued_in_future",
      );
      const skewed = await issuer.mint({ claims: { iat: nowSeconds() + 2 } });
      await expect(verifyAccessToken(skewed, options())).resolves.toBeDefined();
    });

    it("refuses a wrong issuer, including one that differs only by a trailing slash", async () => {
      expect(await rejection(await issuer.mint({ claims: { iss: "https://evil.test" } }))).toBe("wrong_issuer");
      expect(await rejection(await issuer.mint({ claims: { iss: `${TEST_ISSUER}/` } }))).toBe("wrong_issuer");
      expect(await rejection(await issuer.mint({ claims: { iss: undefined } }))).toBe("wrong_issuer");
    });

    it("refuses a wrong or missing audience, and accepts an audience list that contains the API", async () => {
      expect(await rejection(await issuer.mint({ claims: { aud: "https://other-api.test" } }))).toBe("wrong_audience");
      expect(await rejection(await issuer.mint({ claims: { aud: undefined } }))).toBe("wrong_audience");
      const listed = await issuer.mint({ claims: { aud: ["https://other-api.test", TEST_AUDIENCE] } });
      await expect(verifyAccessToken(listed, options())).resolves.toBeDefined();
    });

    it.each(["jti", "sub", "exp", "iat"])("refuses a token without %s", async (claim) => {
      expect(await rejection(await issuer.mint({ claims: { [claim]: undefined } }))).toBe("invalid_claims");
    });

    it.each([
      ["an empty sub", { sub: "" }],
      ["a numeric jti", { jti: 42 }],
      ["a scope list instead of a string", { scope: ["notes:read"] }],
      ["a non-string sid", { sid: { id: 1 } }],
      ["a string exp", { exp: "9999999999" }],
    ])("refuses %s", async (_, claims) => {
      expect(await rejection(await issuer.mint({ claims }))).toBe("invalid_claims");
    });
  });

  describe("key source", () => {
    it("reports unreachable keys apart from invalid tokens", async () => {
      const token = await issuer.mint();
      const getKey = () => Promise.reject(new TypeError("fetch failed"));
      expect(await rejection(token, { getKey })).toBe("keys_unavailable");
    });
  });
});
