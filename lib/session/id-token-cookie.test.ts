import { afterEach, describe, expect, it, vi } from "vitest";
import { withAppEnv } from "@/lib/testing/app-env";
import { sessionFixture } from "@/lib/testing/fixtures";
import { parseSetCookie } from "@/lib/testing/set-cookie";
import { COOKIE_NAMES } from "./cookies";
import { ID_TOKEN_COOKIE_DELETION, idTokenCookie, idTokenFor, idTokenInHeader } from "./id-token-cookie";

withAppEnv("https://app.example");

afterEach(() => vi.restoreAllMocks());

const ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.signature";

describe("the ID token's cookie", () => {
  it("is __Secure-, for the sign-out route only, HttpOnly, Lax, and lasts as long as its session", async () => {
    const session = sessionFixture({ idToken: ID_TOKEN });
    const cookie = parseSetCookie((await idTokenCookie(session))!);
    expect(cookie.name).toBe(COOKIE_NAMES.idToken);
    expect(cookie.name.startsWith("__Secure-")).toBe(true);
    expect(cookie.attributes.get("path")).toBe("/auth/logout");
    expect(cookie.attributes.has("secure")).toBe(true);
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.get("samesite")).toBe("Lax");
    expect(cookie.attributes.has("domain")).toBe(false);
    expect(Date.parse(cookie.attributes.get("expires")!)).toBe(session.expiresAt * 1000);
    expect(cookie.value).not.toContain(ID_TOKEN.split(".")[1]);
  });

  it("gives the ID token back only to the session it was sealed for: a cookie planted from another session is ignored", async () => {
    const alice = sessionFixture({ id: "alice-session", idToken: ID_TOKEN });
    const sealed = parseSetCookie((await idTokenCookie(alice))!).value;
    expect(await idTokenFor(alice, sealed)).toBe(ID_TOKEN);
    expect(await idTokenFor({ ...alice, id: "victim-session" }, sealed)).toBeUndefined();
  });

  it("is nothing when missing, tampered with, or sealed for another cookie", async () => {
    const session = sessionFixture({ idToken: ID_TOKEN });
    const sealed = parseSetCookie((await idTokenCookie(session))!).value;
    expect(await idTokenFor(session, undefined)).toBeUndefined();
    expect(await idTokenFor(session, "garbage")).toBeUndefined();
    expect(await idTokenFor(session, `${sealed.slice(0, -4)}AAAA`)).toBeUndefined();
  });

  it("is not written for a session without an ID token, nor for one too large for a cookie, which is logged", async () => {
    expect(await idTokenCookie(sessionFixture({ idToken: undefined }))).toBeUndefined();
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    expect(await idTokenCookie(sessionFixture({ idToken: "i".repeat(5000) }))).toBeUndefined();
    expect(String(info.mock.calls[0]?.[0])).toMatch(/does not fit its cookie.*sign-out will not hint/);
  });

  it("is deleted on its own path, as the browser needs to match it", () => {
    const deletion = parseSetCookie(ID_TOKEN_COOKIE_DELETION);
    expect(deletion.attributes.get("max-age")).toBe("0");
    expect(deletion.attributes.get("path")).toBe("/auth/logout");
  });

  it("is found in a Cookie header that also carries one planted for another session, whichever comes first", async () => {
    const alice = sessionFixture({ id: "alice-session", idToken: ID_TOKEN });
    const bob = sessionFixture({ id: "bob-session", idToken: "bob.id.token" });
    const own = parseSetCookie((await idTokenCookie(alice))!).value;
    const planted = parseSetCookie((await idTokenCookie(bob))!).value;
    for (const header of [`${COOKIE_NAMES.idToken}=${own}; ${COOKIE_NAMES.idToken}=${planted}`, `theme=dark; ${COOKIE_NAMES.idToken}=${planted}; ${COOKIE_NAMES.idToken}=${own}`]) {
      expect(await idTokenInHeader(alice, header)).toBe(ID_TOKEN);
    }
    expect(await idTokenInHeader(alice, `${COOKIE_NAMES.idToken}=${planted}`)).toBeUndefined();
    expect(await idTokenInHeader(alice, null)).toBeUndefined();
  });
});
