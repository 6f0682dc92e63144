import { CompactEncrypt, base64url, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { createSessionCodec } from "./codec";
import { createLegacyJweReader } from "./legacy-jwe";

const OLD = "old-secret-0123456789-0123456789-0123456789";
const NEW = "new-secret-0123456789-0123456789-0123456789";
const SALT = "__Host-tessera-session";

/** A fixed clock: 2030-01-01T00:00:00Z, in seconds and as a `now()` in milliseconds. */
const NOW_S = 1_893_456_000;
const clockAt = (seconds: number) => () => seconds * 1000;

const payload = { sub: "alice", accessToken: "at-123", accessTokenExpiresAt: NOW_S + 300 };

/**
 * The seal of the codec before iron-session, as it ran in production: cookies of this format are what the
 * reader exists for. Kept here only, to make them; `jweSealText` seals any text, for what that codec never wrote.
 */
async function jweSealText(secrets: readonly string[], salt: string, plaintext: string): Promise<string> {
  const encoder = new TextEncoder();
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secrets[0]!), "HKDF", false, ["deriveBits"]);
  const derive = (info: string, bits: number) =>
    crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) }, ikm, bits);
  const [keyBits, kidBits] = await Promise.all([derive("tessera session encryption key", 256), derive("tessera session key id", 64)]);
  const key = await crypto.subtle.importKey("raw", keyBits, "AES-GCM", false, ["encrypt", "decrypt"]);
  return new CompactEncrypt(encoder.encode(plaintext))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: base64url.encode(new Uint8Array(kidBits)) })
    .encrypt(key);
}

const jweSeal = (secrets: readonly string[], salt: string, value: Record<string, unknown>, expiresAt: number) =>
  jweSealText(secrets, salt, JSON.stringify({ ...value, exp: expiresAt }));

function tamperPart(token: string, part: number): string {
  const parts = token.split(".");
  const segment = parts[part] ?? "";
  const index = Math.floor(segment.length / 2);
  parts[part] = segment.slice(0, index) + (segment[index] === "A" ? "B" : "A") + segment.slice(index + 1);
  return parts.join(".");
}

/** As the session cookie's codec is made (`seal.ts`). */
const LEGACY = { openLegacyJwe: true };

describe("a session cookie sealed before iron-session, opened by the session codec", () => {
  it("opens with the same secrets, exp included", async () => {
    const token = await jweSeal([NEW], SALT, payload, NOW_S + 60);
    expect(token).toMatch(/^eyJ/);
    expect(token.split(".")).toHaveLength(5);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S), LEGACY).open(token)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("is refused by a codec not made for the session cookie, such as the ID token's: no cookie of its was ever a JWE", async () => {
    const token = await jweSeal([NEW], SALT, payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S)).open(token)).toBeNull();
  });

  it("opens after a rotation, sealed with a secret that is no longer the newest", async () => {
    const token = await jweSeal([OLD], SALT, payload, NOW_S + 60);
    expect(await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S), LEGACY).open(token)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("is sealed again in iron-session's format, which opens too", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S), LEGACY);
    const opened = await codec.open(await jweSeal([NEW], SALT, payload, NOW_S + 60));
    const resealed = await codec.seal(opened!, NOW_S + 60);
    expect(resealed).toMatch(/^Fe26\.2\*/);
    expect(await codec.open(resealed)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("refuses one at or after its exp", async () => {
    const token = await jweSeal([NEW], SALT, payload, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S + 60), LEGACY).open(token)).toBeNull();
  });

  it("refuses one sealed with a secret it does not hold, or for another cookie", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S), LEGACY);
    expect(await codec.open(await jweSeal([OLD], SALT, payload, NOW_S + 60))).toBeNull();
    expect(await codec.open(await jweSeal([NEW], "another-cookie", payload, NOW_S + 60))).toBeNull();
  });

  it("refuses one over 16 KB", async () => {
    const token = await jweSeal([NEW], SALT, { ...payload, padding: "x".repeat(16 * 1024) }, NOW_S + 60);
    expect(await createSessionCodec([NEW], SALT, clockAt(NOW_S), LEGACY).open(token)).toBeNull();
  });
});

describe("createLegacyJweReader", () => {
  const reader = createLegacyJweReader([NEW, OLD], SALT);

  it("opens a JWE of either secret, leaving exp to the caller", async () => {
    expect(await reader.open(await jweSeal([OLD], SALT, payload, NOW_S - 3600))).toEqual({ ...payload, exp: NOW_S - 3600 });
    expect(await reader.open(await jweSeal([NEW], SALT, payload, NOW_S + 60))).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it.each([
    ["the protected header", 0],
    ["the IV", 2],
    ["the ciphertext", 3],
    ["the authentication tag", 4],
  ])("returns null when %s is tampered with", async (_name, part) => {
    const token = await jweSeal([NEW], SALT, payload, NOW_S + 60);
    expect(await reader.open(tamperPart(token, part))).toBeNull();
  });

  it("returns null when the header is rewritten but keeps the right kid", async () => {
    const token = await jweSeal([NEW], SALT, payload, NOW_S + 60);
    const rewritten = base64url.encode(JSON.stringify({ ...decodeProtectedHeader(token), cty: "x" }));
    expect(await reader.open([rewritten, ...token.split(".").slice(1)].join("."))).toBeNull();
  });

  it("returns null for a JWE whose alg is not dir, even with a matching kid", async () => {
    const { kid } = decodeProtectedHeader(await jweSeal([NEW], SALT, payload, NOW_S + 60));
    const wrapped = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: "A256KW", enc: "A256GCM", kid })
      .encrypt(crypto.getRandomValues(new Uint8Array(32)));
    expect(await reader.open(wrapped)).toBeNull();
  });

  it("returns null for a dir JWE that claims a known kid but was encrypted with another key", async () => {
    const { kid } = decodeProtectedHeader(await jweSeal([NEW], SALT, payload, NOW_S + 60));
    const forged = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid })
      .encrypt(crypto.getRandomValues(new Uint8Array(32)));
    expect(await reader.open(forged)).toBeNull();
  });

  it.each(["[1,2]", "null", "42", "{not json"])("returns null for a JWE of %j, not a JSON object", async (plaintext) => {
    expect(await reader.open(await jweSealText([NEW], SALT, plaintext))).toBeNull();
  });

  it.each(["", "garbage", "a.b.c.d.e", ".....", "eyJ9.x.y.z.w", "bnVsbA.x.y.z.w", "not even base64!", "Fe26.2*1*a*b*c*d*e*f~2"])("returns null for %j", async (token) => {
    expect(await reader.open(token)).toBeNull();
  });
});
