import { describe, expect, it } from "vitest";
import { canGoOn, DEFAULT_REFRESH_SKEW, freshness, refreshTime, UNREFRESHABLE_LIMIT, unrefreshableTooLong } from "./policy";

const T0 = 1_700_000_000;

describe("refreshTime", () => {
  it("refreshes a 300-second token 60 seconds before it expires", () => {
    expect(refreshTime(T0, T0 + 300)).toBe(T0 + 240);
  });

  it("uses 60 seconds as the default skew", () => {
    expect(DEFAULT_REFRESH_SKEW).toBe(60);
    expect(refreshTime(T0, T0 + 3600)).toBe(refreshTime(T0, T0 + 3600, 60));
  });

  it("refreshes an 8-second token a quarter of its lifetime (2 s) early", () => {
    expect(refreshTime(T0, T0 + 8)).toBe(T0 + 6);
  });

  it("refreshes a 4-second token 1 second early", () => {
    expect(refreshTime(T0, T0 + 4)).toBe(T0 + 3);
  });

  it("switches from the quarter to the full skew at a 240-second lifetime", () => {
    expect(refreshTime(T0, T0 + 200)).toBe(T0 + 150);
    expect(refreshTime(T0, T0 + 240)).toBe(T0 + 180);
    expect(refreshTime(T0, T0 + 1000)).toBe(T0 + 940);
  });

  it("honours a custom skew for long tokens", () => {
    expect(refreshTime(T0, T0 + 300, 10)).toBe(T0 + 290);
  });

  it("still caps a custom skew at a quarter of a short lifetime", () => {
    expect(refreshTime(T0, T0 + 20, 10)).toBe(T0 + 15);
  });

  it("refreshes at expiry when the skew is zero", () => {
    expect(refreshTime(T0, T0 + 300, 0)).toBe(T0 + 300);
  });

  it("refreshes at once a token with zero lifetime", () => {
    expect(refreshTime(T0, T0)).toBe(T0);
  });

  it("never refreshes later than expiry for a token that expired before it was received", () => {
    expect(refreshTime(T0, T0 - 30)).toBe(T0 - 30);
  });
});

describe("freshness", () => {
  const session = { refreshAt: T0 + 240, accessTokenExpiresAt: T0 + 300 };

  it("is fresh before refreshAt", () => {
    expect(freshness(session, T0 + 239)).toBe("fresh");
  });

  it("is due exactly at refreshAt", () => {
    expect(freshness(session, T0 + 240)).toBe("due");
  });

  it("is due just before the access token expires", () => {
    expect(freshness(session, T0 + 299)).toBe("due");
  });

  it("is expired exactly at accessTokenExpiresAt", () => {
    expect(freshness(session, T0 + 300)).toBe("expired");
  });

  it("is expired after accessTokenExpiresAt", () => {
    expect(freshness(session, T0 + 10_000)).toBe("expired");
  });

  it("is expired rather than due when refreshAt and expiry coincide", () => {
    expect(freshness({ refreshAt: T0, accessTokenExpiresAt: T0 }, T0)).toBe("expired");
  });

  it("handles fractional refreshAt values", () => {
    const fractional = { refreshAt: T0 + 2.5, accessTokenExpiresAt: T0 + 10 };
    expect(freshness(fractional, T0 + 2)).toBe("fresh");
    expect(freshness(fractional, T0 + 3)).toBe("due");
  });
});

describe("canGoOn", () => {
  it("is true while the access token is current, or while a refresh token can renew it", () => {
    expect(canGoOn({ accessTokenExpiresAt: 1_000 }, 999)).toBe(true);
    expect(canGoOn({ accessTokenExpiresAt: 1_000, refreshToken: "r" }, 5_000)).toBe(true);
    expect(canGoOn({ accessTokenExpiresAt: 1_000 }, 1_000)).toBe(false);
  });
});

describe("unrefreshableTooLong", () => {
  it("is true from UNREFRESHABLE_LIMIT seconds after the first failed refresh", () => {
    expect(unrefreshableTooLong(1_000, 1_000 + UNREFRESHABLE_LIMIT - 1)).toBe(false);
    expect(unrefreshableTooLong(1_000, 1_000 + UNREFRESHABLE_LIMIT)).toBe(true);
  });
});
