import { describe, expect, it } from "vitest";
import { openResult, resultKeys, sealResult } from "./sealed-result";

const SECRET = "a-server-secret-of-at-least-32-characters";
const TOKEN = "refresh-token-from-the-idp";

describe("sealed refresh results", () => {
  it("names an entry by a keyed hash that shows nothing of the token, the same on every instance", () => {
    const { id } = resultKeys(SECRET, TOKEN);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(id).not.toContain(TOKEN);
    expect(resultKeys(SECRET, TOKEN).id).toBe(id);
    expect(resultKeys("another-server-secret-of-32-characters!", TOKEN).id).not.toBe(id);
    expect(resultKeys(SECRET, `${TOKEN}x`).id).not.toBe(id);
  });

  it("opens what it sealed, and the sealed value carries no plaintext", () => {
    const keys = resultKeys(SECRET, TOKEN);
    const sealed = sealResult(keys, '{"refreshToken":"the-successor"}');
    expect(sealed).not.toContain("successor");
    expect(Buffer.from(sealed, "base64url").toString("latin1")).not.toContain("successor");
    expect(openResult(keys, sealed)).toBe('{"refreshToken":"the-successor"}');
    expect(sealResult(keys, "same")).not.toBe(sealResult(keys, "same"));
  });

  it("does not open without both the server secret and the old refresh token, nor under another entry's name", () => {
    const sealed = sealResult(resultKeys(SECRET, TOKEN), "successor");
    expect(openResult(resultKeys("another-server-secret-of-32-characters!", TOKEN), sealed)).toBeNull();
    expect(openResult(resultKeys(SECRET, "another-refresh-token"), sealed)).toBeNull();
    const { key } = resultKeys(SECRET, TOKEN);
    expect(openResult({ id: resultKeys(SECRET, "other").id, key }, sealed)).toBeNull();
  });

  it("refuses a tampered or truncated value", () => {
    const keys = resultKeys(SECRET, TOKEN);
    const bytes = Buffer.from(sealResult(keys, "successor"), "base64url");
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 1, bytes.length - 20);
    expect(openResult(keys, bytes.toString("base64url"))).toBeNull();
    expect(openResult(keys, "c2hvcnQ")).toBeNull();
    expect(openResult(keys, "")).toBeNull();
  });
});
