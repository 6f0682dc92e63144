import { describe, expect, it } from "vitest";
import { TokenError } from "../tokens/signed-token";
import { boundedReason, reasonOf } from "./reasons";

describe("boundedReason", () => {
  it("keeps the codes the API logs", () => {
    for (const code of ["missing_token", "expired", "bad_signature", "keys_unavailable", "revoked", "replayed", "revocation_unavailable", "invalid_request"]) {
      expect(boundedReason(code)).toBe(code);
    }
  });

  it("turns anything else into other, so a caller cannot make up a label", () => {
    for (const code of ["eyJhbGciOiJFUzI1NiJ9", "toString", "__proto__", "", 42, undefined, null]) expect(boundedReason(code)).toBe("other");
  });
});

describe("reasonOf", () => {
  it("reads a TokenError's code, and calls every other error other", () => {
    expect(reasonOf(new TokenError("wrong_audience", "aud is api://elsewhere"))).toBe("wrong_audience");
    expect(reasonOf(new Error("boom"))).toBe("other");
    expect(reasonOf(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe("other");
    expect(reasonOf("a string")).toBe("other");
  });
});
