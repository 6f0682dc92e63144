import { CompactEncrypt, base64url, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { createSessionCodec } from "./codec";

const OLD = "old-secret-0123456789-0123456789-0123456789";
const NEW = "new-secret-0123456789-0123456789-0123456789";
const SALT = "__Host-tessera-session";

/** A fixed clock: 2030-01-01T00:00:00Z, in seconds and as a `now()` in milliseconds. */
const NOW_S = 1_893_456_000;
const clockAt = (seconds: number) => () => seconds * 1000;

const payload = { sub: "alice", accessToken: "at-123", accessTokenExpiresAt: NOW_S + 300 };

/** Replaces one character of a base64url segment with a different one. */
function flipChar(segment: string, index: number): string {
  const c = segment[index];
  return segment.slice(0, index) + (c === "A" ? "B" : "A") + segment.slice(index + 1);
}

function tamperPart(token: string, part: number): string {
  const parts = token.split(".");
  const segment = parts[part] ?? "";
  parts[part] = flipChar(segment, Math.floor(segment.length / 2));
  return parts.join(".");
}

describe("createSessionCodec", () => {
  it("refuses an empty list of secrets", () => {
    expect(() => createSessionCodec([], SALT)).toThrow(TypeError);
  });

  it("opens what it sealed, with exp stamped", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    const token = await codec.seal(payload, NOW_S + 3600);
    expect(await codec.open(token)).toEqual({ ...payload, exp: NOW_S + 3600 });
  });

  it("stamps the given expiry over any exp already in the payload", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    const token = await codec.seal({ ...payload, exp: NOW_S + 999_999 }, NOW_S + 60);
    expect((await codec.open(token))?.exp).toBe(NOW_S + 60);
  });

  it("produces a compact JWE whose ciphertext does not reveal the payload", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    const token = await codec.seal(payload, NOW_S + 60);
    expect(token.split(".")).toHaveLength(5);
    expect(token).not.toContain("alice");
    expect(token).not.toContain(base64url.encode("at-123"));
  });

  it("uses a fresh IV each time, so the same payload seals to different tokens", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    expect(await codec.seal(payload, NOW_S + 60)).not.toBe(await codec.seal(payload, NOW_S + 60));
  });
});

describe("session expiry", () => {
  it("opens a token one second before its exp", async () => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S + 59)).open(token)).not.toBeNull();
  });

  it("refuses a token at its exp", async () => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S + 60)).open(token)).toBeNull();
  });

  it("refuses a token after its exp", async () => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S + 3600)).open(token)).toBeNull();
  });

  it("refuses a token sealed already expired", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    expect(await codec.open(await codec.seal(payload, NOW_S - 1))).toBeNull();
  });
});

describe("opening untrusted input", () => {
  const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));

  it.each([
    ["the protected header", 0],
    ["the IV", 2],
    ["the ciphertext", 3],
    ["the authentication tag", 4],
  ])("returns null when %s is tampered with", async (_name, part) => {
    const token = await codec.seal(payload, NOW_S + 60);
    expect(await codec.open(token)).not.toBeNull();
    expect(await codec.open(tamperPart(token, part))).toBeNull();
  });

  it("returns null when the header is rewritten but keeps the right kid", async () => {
    const token = await codec.seal(payload, NOW_S + 60);
    const header = decodeProtectedHeader(token);
    const rewritten = base64url.encode(JSON.stringify({ ...header, cty: "x" }));
    expect(await codec.open([rewritten, ...token.split(".").slice(1)].join("."))).toBeNull();
  });

  it("returns null when the ciphertext is truncated", async () => {
    const token = await codec.seal(payload, NOW_S + 60);
    expect(await codec.open(token.slice(0, -10))).toBeNull();
  });

  it.each(["", "garbage", "a.b.c.d.e", ".....", "eyJ9.x.y.z.w", "not even base64!"])("returns null for %j", async (token) => {
    expect(await codec.open(token)).toBeNull();
  });

  it("returns null for a token over 16 KB, even one it sealed itself", async () => {
    const token = await codec.seal({ ...payload, padding: "x".repeat(16 * 1024) }, NOW_S + 60);
    expect(token.length).toBeGreaterThan(16 * 1024);
    expect(await codec.open(token)).toBeNull();
  });

  it("opens a large token that is still under 16 KB", async () => {
    const token = await codec.seal({ ...payload, padding: "x".repeat(8 * 1024) }, NOW_S + 60);
    expect(token.length).toBeLessThanOrEqual(16 * 1024);
    expect(await codec.open(token)).not.toBeNull();
  });

  it("returns null for a token sealed with another secret", async () => {
    const token = await createSessionCodec([OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await codec.open(token)).toBeNull();
  });

  it("returns null for a token sealed with the same secret but another salt", async () => {
    const token = await createSessionCodec([NEW], "another-cookie", clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await codec.open(token)).toBeNull();
  });

  it("returns null for a JWE whose alg is not dir, even with a matching kid", async () => {
    const { kid } = decodeProtectedHeader(await codec.seal(payload, NOW_S + 60));
    const plaintext = new TextEncoder().encode(JSON.stringify({ ...payload, exp: NOW_S + 60 }));
    const wrapped = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: "A256KW", enc: "A256GCM", kid })
      .encrypt(crypto.getRandomValues(new Uint8Array(32)));
    expect(await codec.open(wrapped)).toBeNull();
  });

  it("returns null for a dir JWE that claims a known kid but was encrypted with another key", async () => {
    const { kid } = decodeProtectedHeader(await codec.seal(payload, NOW_S + 60));
    const forged = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ ...payload, exp: NOW_S + 60 })))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
      .encrypt(crypto.getRandomValues(new Uint8Array(32)));
    expect(await codec.open(forged)).toBeNull();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, "later"])("returns null when the sealed exp is not a finite number (%s)", async (expiresAt) => {
    const token = await codec.seal(payload, expiresAt as number);
    expect(await codec.open(token)).toBeNull();
  });
});

describe("protected header", () => {
  it("has alg dir, enc A256GCM and a kid, and nothing secret", async () => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: "dir", enc: "A256GCM", kid: expect.any(String) });
    const rawHeader = new TextDecoder().decode(base64url.decode(token.split(".")[0] ?? ""));
    expect(rawHeader).not.toContain(NEW);
    expect(rawHeader).not.toContain(SALT);
    expect(header.kid).not.toBe(NEW);
  });

  it("has the same kid for the same secret and salt, and a different one otherwise", async () => {
    const kidOf = async (secret: string, salt: string) =>
      decodeProtectedHeader(await createSessionCodec([secret], salt, clockAt(NOW_S)).seal(payload, NOW_S + 60)).kid;
    const kid = await kidOf(NEW, SALT);
    expect(await kidOf(NEW, SALT)).toBe(kid);
    expect(await kidOf(OLD, SALT)).not.toBe(kid);
    expect(await kidOf(NEW, "other-salt")).not.toBe(kid);
  });
});

describe("secret rotation", () => {
  it("opens a token sealed with the old secret once a new one is added in front", async () => {
    const token = await createSessionCodec([OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S)).open(token)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("seals with the newest secret, which a codec holding only the new secret opens", async () => {
    const token = await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S)).open(token)).not.toBeNull();
  });

  it("does not seal with the old secret: a codec holding only the old secret cannot open the result", async () => {
    const token = await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([OLD], SALT, clockAt(NOW_S)).open(token)).toBeNull();
  });

  it("stops opening old tokens once the old secret is removed", async () => {
    const token = await createSessionCodec([OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S)).open(token)).toBeNull();
  });
});
