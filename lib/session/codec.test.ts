import { describe, expect, it } from "vitest";
import { createSessionCodec } from "./codec";

const OLDEST = "oldest-secret-0123456789-0123456789-0123456789";
const OLD = "old-secret-0123456789-0123456789-0123456789";
const NEW = "new-secret-0123456789-0123456789-0123456789";
const SALT = "__Host-tessera-session";

/** A fixed clock: 2030-01-01T00:00:00Z, in seconds and as a `now()` in milliseconds. */
const NOW_S = 1_893_456_000;
const clockAt = (seconds: number) => () => seconds * 1000;

const payload = { sub: "alice", accessToken: "at-123", accessTokenExpiresAt: NOW_S + 300 };

/**
 * An iron seal: `Fe26.2*id*encryption salt*iv*ciphertext*expiration*integrity salt*hmac`, then `~2`,
 * iron-session's format version.
 */
const IRON_PARTS = ["prefix", "password id", "encryption salt", "IV", "ciphertext", "expiration", "integrity salt", "HMAC"] as const;

function parts(token: string): string[] {
  return token.replace(/~2$/, "").split("*");
}

/** Replaces one character in the middle of one `*`-separated part with a different one. */
function tamperPart(token: string, part: number): string {
  const pieces = parts(token);
  const segment = pieces[part] ?? "";
  const index = Math.floor(segment.length / 2);
  const c = segment[index];
  pieces[part] = segment.slice(0, index) + (c === "1" ? "2" : "1") + segment.slice(index + 1);
  return `${pieces.join("*")}~2`;
}

const passwordIdOf = async (secrets: string[], salt = SALT) => parts(await createSessionCodec(secrets, salt, clockAt(NOW_S)).seal(payload, NOW_S + 60))[1];

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

  it("produces an iron-session seal whose ciphertext does not reveal the payload", async () => {
    const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));
    const token = await codec.seal(payload, NOW_S + 60);
    expect(token).toMatch(/^Fe26\.2\*/);
    expect(token).toMatch(/~2$/);
    expect(parts(token)).toHaveLength(IRON_PARTS.length);
    expect(token).not.toContain("alice");
    expect(token).not.toContain("at-123");
  });

  it("uses fresh salts and IV each time, so the same payload seals to different tokens", async () => {
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

  it("gives iron's own expiry the session's time left, from the real clock", async () => {
    const codec = createSessionCodec([NEW], SALT);
    const before = Date.now();
    const token = await codec.seal(payload, Math.floor(before / 1000) + 3600);
    const expiration = Number(parts(token)[5]);
    expect(expiration).toBeGreaterThanOrEqual(before + 3599_000);
    expect(expiration).toBeLessThanOrEqual(Date.now() + 3601_000);
  });

  it.each([NOW_S - 3600, Number.NaN, Number.POSITIVE_INFINITY])("never seals without an iron expiry (expiresAt %s)", async (expiresAt) => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, expiresAt);
    expect(parts(token)[5]).toMatch(/^\d+$/);
  });
});

describe("opening untrusted input", () => {
  const codec = createSessionCodec([NEW], SALT, clockAt(NOW_S));

  it.each(IRON_PARTS.map((name, index) => [name, index] as const))("returns null when the %s is tampered with", async (_name, part) => {
    const token = await codec.seal(payload, NOW_S + 60);
    expect(await codec.open(token)).not.toBeNull();
    expect(await codec.open(tamperPart(token, part))).toBeNull();
  });

  it("returns null when the ciphertext is truncated", async () => {
    const token = await codec.seal(payload, NOW_S + 60);
    const pieces = parts(token);
    pieces[4] = pieces[4]!.slice(0, -10);
    expect(await codec.open(`${pieces.join("*")}~2`)).toBeNull();
  });

  it("returns null when the token is cut short", async () => {
    const token = await codec.seal(payload, NOW_S + 60);
    expect(await codec.open(token.slice(0, -10))).toBeNull();
  });

  it.each(["", "~1", "~3"])("returns null when iron-session's format version is changed to %j", async (suffix) => {
    const token = await codec.seal(payload, NOW_S + 60);
    expect(await codec.open(token.replace(/~2$/, suffix))).toBeNull();
  });

  it.each([
    "",
    "garbage",
    "a.b.c.d.e",
    ".....",
    "eyJ9.x.y.z.w",
    "not even base64!",
    "Fe26.2*",
    "Fe26.2********",
    "Fe26.2*1*a*b*c*d*e*f~2",
    "Fe26.2*constructor*a*b*c**e*f~2",
    "Fe26.2*__proto__*a*b*c**e*f~2",
    "Fe26.2*1*a*b*c*-1*e*f~2",
  ])("returns null for %j", async (token) => {
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

  it("returns null for a token sealed with another secret under this secret's password id", async () => {
    const token = await createSessionCodec([OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    const pieces = parts(token);
    pieces[1] = (await passwordIdOf([NEW]))!;
    expect(await codec.open(`${pieces.join("*")}~2`)).toBeNull();
  });

  it("returns null for a token sealed with the same secret but another salt", async () => {
    const token = await createSessionCodec([NEW], "another-cookie", clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await codec.open(token)).toBeNull();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, "later"])("returns null when the sealed exp is not a finite number (%s)", async (expiresAt) => {
    const token = await codec.seal(payload, expiresAt as number);
    expect(await codec.open(token)).toBeNull();
  });
});

describe("password id", () => {
  it("is a decimal number, and no part of the token holds the secret or the salt", async () => {
    const token = await createSessionCodec([NEW], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    const id = parts(token)[1]!;
    expect(id).toMatch(/^[1-9]\d*$|^0$/);
    expect(String(Number(id))).toBe(id);
    expect(token).not.toContain(NEW);
    expect(token).not.toContain(SALT);
  });

  it("is the same for the same secret and salt, and different otherwise", async () => {
    const id = await passwordIdOf([NEW]);
    expect(await passwordIdOf([NEW])).toBe(id);
    expect(await passwordIdOf([OLD])).not.toBe(id);
    expect(await passwordIdOf([NEW], "other-salt")).not.toBe(id);
  });

  it("belongs to the secret, not to its place in the list", async () => {
    expect(await passwordIdOf([OLD, OLDEST])).toBe(await passwordIdOf([OLD]));
    expect(await passwordIdOf([NEW, OLD])).toBe(await passwordIdOf([NEW]));
  });
});

describe("secret rotation", () => {
  it("opens a token sealed with the old secret once a new one is added in front", async () => {
    const token = await createSessionCodec([OLD], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S)).open(token)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("opens a token sealed with a secret that has since moved in the list: one added in front, the oldest dropped", async () => {
    const token = await createSessionCodec([OLD, OLDEST], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
    expect(await createSessionCodec([NEW, OLD], SALT, clockAt(NOW_S)).open(token)).toEqual({ ...payload, exp: NOW_S + 60 });
  });

  it("opens, with three secrets, a token sealed with any of them", async () => {
    const codec = createSessionCodec([NEW, OLD, OLDEST], SALT, clockAt(NOW_S));
    for (const secret of [NEW, OLD, OLDEST]) {
      const token = await createSessionCodec([secret], SALT, clockAt(NOW_S)).seal(payload, NOW_S + 60);
      expect(await codec.open(token)).not.toBeNull();
    }
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
