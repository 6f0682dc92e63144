import { beforeAll, describe, expect, it } from "vitest";
import { normalizeTokenType, verifySignedToken, type SignedTokenOptions } from "./signed-token";
import { createTestIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from "../testing/test-issuer";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const options = (overrides: Partial<SignedTokenOptions> = {}): SignedTokenOptions => ({
  getKey: issuer.getKey,
  issuer: TEST_ISSUER,
  audience: TEST_AUDIENCE,
  clockTolerance: 5,
  acceptedTypes: ["at+jwt"],
  typRequired: true,
  requiredClaims: ["iat"],
  ...overrides,
});

describe("normalizeTokenType", () => {
  it("ignores case and the application/ prefix", () => {
    expect(normalizeTokenType("application/AT+JWT")).toBe("at+jwt");
    expect(normalizeTokenType("At+Jwt")).toBe("at+jwt");
    expect(normalizeTokenType("JWT")).toBe("jwt");
  });
});

describe("verifySignedToken", () => {
  it("refuses a token without typ only when typ is required", async () => {
    const untyped = await issuer.mint({ header: { typ: undefined } });
    await expect(verifySignedToken(untyped, options())).rejects.toMatchObject({ code: "unsupported_typ" });
    await expect(verifySignedToken(untyped, options({ typRequired: false }))).resolves.toMatchObject({ sub: "alice" });
  });

  it("refuses a typ outside the accepted ones even when typ is optional", async () => {
    const token = await issuer.mint({ header: { typ: "JWT" } });
    await expect(verifySignedToken(token, options({ typRequired: false }))).rejects.toMatchObject({ code: "unsupported_typ" });
  });

  it("refuses a typ that is not a string", async () => {
    const token = await issuer.mint({ header: { typ: ["at+jwt"] } });
    await expect(verifySignedToken(token, options({ typRequired: false }))).rejects.toMatchObject({ code: "unsupported_typ" });
  });

  it("accepts an audience from a list", async () => {
    const token = await issuer.mint({ claims: { aud: "b" } });
    await expect(verifySignedToken(token, options({ audience: ["a", "b"] }))).resolves.toBeDefined();
    await expect(verifySignedToken(token, options({ audience: ["a", "c"] }))).rejects.toMatchObject({ code: "wrong_audience" });
  });
});
