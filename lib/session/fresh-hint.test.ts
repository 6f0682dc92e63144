import { describe, expect, it } from "vitest";
import { CLEAR_FRESH_HINT, freshHintCookie, freshHintMaxAge } from "./fresh-hint";

const T0 = 1_700_000_000;

describe("freshHintMaxAge", () => {
  it("lasts until the access token is due for refresh", () => {
    expect(freshHintMaxAge({ refreshAt: T0 + 240, expiresAt: T0 + 28_800 }, T0)).toBe(240);
  });

  it("ends with the session when that comes first", () => {
    expect(freshHintMaxAge({ refreshAt: T0 + 240, expiresAt: T0 + 100 }, T0)).toBe(100);
  });

  it("counts from the exact time: a second already begun is not given again", () => {
    expect(freshHintMaxAge({ refreshAt: T0 + 6, expiresAt: T0 + 100 }, T0 + 0.9)).toBe(5);
  });

  it("never outlives the moment a refresh is due, and is none once it has come", () => {
    expect(freshHintMaxAge({ refreshAt: T0 + 10.5, expiresAt: T0 + 100 }, T0)).toBe(10);
    expect(freshHintMaxAge({ refreshAt: T0, expiresAt: T0 + 100 }, T0)).toBe(0);
    expect(freshHintMaxAge({ refreshAt: T0 - 5, expiresAt: T0 + 100 }, T0)).toBe(0);
  });
});

describe("freshHintCookie", () => {
  it("is a __Host- cookie that holds nothing and expires when a refresh is due", () => {
    expect(freshHintCookie({ refreshAt: T0 + 240, expiresAt: T0 + 28_800 }, T0)).toBe(
      "__Host-tessera-fresh=1; Max-Age=240; Path=/; Secure; HttpOnly; SameSite=Lax",
    );
  });

  it("takes the hint away when the token is already due", () => {
    expect(freshHintCookie({ refreshAt: T0, expiresAt: T0 + 28_800 }, T0)).toBe(CLEAR_FRESH_HINT);
    expect(CLEAR_FRESH_HINT).toBe("__Host-tessera-fresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax");
  });
});
