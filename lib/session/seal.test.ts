import { maxHeaderSize } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SEALED_LENGTH, readSessionCookie, sealSession, SessionTooLargeError } from "./seal";
import { sessionPayload, type Session } from "./session";
import { createSessionCodec } from "./codec";
import { chunkCookie, COOKIE_NAMES } from "./cookies";
import { sessionFixture } from "@/lib/testing/fixtures";

const NEWEST = "newest-secret-0123456789-0123456789-0123456789";
const OLDER = "older-secret-0123456789-0123456789-0123456789";
const UNKNOWN = "unknown-secret-0123456789-0123456789-012345678";
const NAME = COOKIE_NAMES.session;

beforeAll(() => {
  // The seal reads its secrets through getConfig() on first use: newest first.
  process.env.AUTH_SECRET = `${NEWEST}, ${OLDER}`;
});
afterAll(() => {
  delete process.env.AUTH_SECRET;
});

const session = sessionFixture;

const sealWith = (secret: string, value: Session) => createSessionCodec([secret], NAME).seal(sessionPayload(value), value.expiresAt);
const cookie = (value: string) => [{ name: NAME, value }];

describe("secret rotation", () => {
  it("opens a session sealed with an older secret", async () => {
    const older = session();
    expect(await readSessionCookie(cookie(await sealWith(OLDER, older)))).toEqual(older);
  });

  it("seals with the newest secret only", async () => {
    const sealed = await sealSession(session());
    expect(await createSessionCodec([NEWEST], NAME).open(sealed)).not.toBeNull();
    expect(await createSessionCodec([OLDER], NAME).open(sealed)).toBeNull();
  });

  it("counts a session sealed with a secret it does not hold as signed out", async () => {
    expect(await readSessionCookie(cookie(await sealWith(UNKNOWN, session())))).toBeNull();
  });

  it("counts a tampered session as signed out", async () => {
    const sealed = await sealSession(session());
    const i = Math.floor(sealed.length / 2);
    const tampered = sealed.slice(0, i) + (sealed[i] === "A" ? "B" : "A") + sealed.slice(i + 1);
    expect(await readSessionCookie(cookie(tampered))).toBeNull();
  });

  it("reads a chunked session back whole", async () => {
    const large = session({ accessToken: "a".repeat(6000) });
    const { set } = chunkCookie(NAME, await sealSession(large), []);
    expect(set.length).toBeGreaterThan(1);
    expect(await readSessionCookie(set)).toEqual({ ...large, idToken: undefined });
  });
});

describe("the cookie budget", () => {
  it("never stores the ID token, which has a cookie of its own: the rest of the session opens whole", async () => {
    const normal = session({ idToken: "i".repeat(2000) });
    const sealed = await sealSession(normal);
    expect(await readSessionCookie(cookie(sealed))).toEqual({ ...normal, idToken: undefined });
    expect(sealed.length).toBeLessThan((await sealSession({ ...normal, idToken: undefined })).length + 100);
  });

  it("still opens a session sealed with its ID token, as cookies from before kept it, ID token included", async () => {
    const older = session({ idToken: "header.payload.signature" });
    const sealed = await createSessionCodec([NEWEST], NAME).seal(sessionPayload(older), older.expiresAt);
    expect(await readSessionCookie(cookie(sealed))).toEqual(older);
  });

  it("refuses, with session_too_large, a session over the budget", async () => {
    const huge = session({ accessToken: "a".repeat(MAX_SEALED_LENGTH) });
    const refusal = sealSession(huge);
    await expect(refusal).rejects.toBeInstanceOf(SessionTooLargeError);
    await expect(refusal).rejects.toMatchObject({ code: "session_too_large" });
  });

  it("leaves 4 KB of Node.js's request-header limit for everything else a request carries", () => {
    const { set } = chunkCookie(NAME, "x".repeat(MAX_SEALED_LENGTH), []);
    const sessionCookieHeader = set.map(({ name, value }) => `${name}=${value}`).join("; ");
    // Measured in the end-to-end suite: Chromium's own headers and the host's other cookies take about 1 KB.
    expect(sessionCookieHeader.length + 4096).toBeLessThanOrEqual(maxHeaderSize);
  });

  it("stores a session at the budget in cookies of under 4096 bytes each, name and attributes included", () => {
    const { set } = chunkCookie(NAME, "x".repeat(MAX_SEALED_LENGTH), []);
    // The attributes the app writes: Path=/; Expires=<date>; HttpOnly; Secure; SameSite=lax
    const attributes = "; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly; Secure; SameSite=lax";
    for (const { name, value } of set) expect(`${name}=${value}${attributes}`.length).toBeLessThan(4096);
  });
});
