import { describe, expect, it } from "vitest";
import { CookieJar } from "./cookie-jar";

describe("CookieJar", () => {
  it("sends a cookie only to the paths it was set for", () => {
    const jar = new CookieJar();
    jar.store(["a=1; Path=/", "b=2; Path=/auth"], "/");
    expect(jar.header("/")).toBe("a=1");
    expect(jar.header("/auth/login")).toBe("a=1; b=2");
    expect(jar.header("/authority")).toBe("a=1");
  });

  it("forgets a cookie when its Max-Age or Expires passes, and at once when deleted", () => {
    let now = 1_700_000_000_000;
    const jar = new CookieJar(() => now);
    jar.store(["short=1; Max-Age=10; Path=/", "dated=1; Expires=" + new Date(now + 20_000).toUTCString() + "; Path=/", "lasting=1; Path=/"], "/");
    expect(jar.names()).toEqual(["short", "dated", "lasting"]);
    now += 10_000;
    expect(jar.names()).toEqual(["dated", "lasting"]);
    now += 10_000;
    expect(jar.header("/")).toBe("lasting=1");
    jar.store(["lasting=; Max-Age=0; Path=/"], "/");
    expect(jar.names()).toEqual([]);
  });

  it("lets Max-Age win over Expires", () => {
    const now = 1_700_000_000_000;
    const jar = new CookieJar(() => now);
    jar.store([`a=1; Expires=${new Date(now - 1000).toUTCString()}; Max-Age=60`], "/");
    expect(jar.names()).toEqual(["a"]);
  });
});
