import { describe, expect, it } from "vitest";
import { DEFAULT_RETURN_TO, safeReturnTo, safeReturnUrl } from "./return-to";

const APP = "https://app.example";

/** What a browser does with the result as a `Location`: it must stay on our origin. */
const staysLocal = (result: string) => new URL(result, APP).origin === APP;

describe("safeReturnTo keeps local paths", () => {
  it.each(["/dashboard", "/dashboard?tab=1#x", "/", "/notes/abc-123", "/a/b/../c", "/search?q=a%2Fb"])("keeps %j", (path) => {
    const result = safeReturnTo(path);
    expect(result).toBe(new URL(path, APP).href.slice(APP.length));
    expect(staysLocal(result)).toBe(true);
  });

  it("keeps query and fragment exactly", () => {
    expect(safeReturnTo("/dashboard?tab=1#x")).toBe("/dashboard?tab=1#x");
  });

  it("resolves dot segments that stay on the origin", () => {
    expect(safeReturnTo("/a/b/../c")).toBe("/a/c");
  });
});

describe("safeReturnTo refuses open redirects", () => {
  it.each([
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "https://evil.example",
    "https://app.example/dashboard",
    "HTTPS://evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/\tevil",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\u0000/evil.example",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "dashboard",
    "?next=/",
    "#/",
    // Dot segments the URL parser resolves into a protocol-relative "//evil.example".
    "/.//evil.example",
    "/..//evil.example",
    "/%2e//evil.example",
    "/%2E%2E//evil.example",
    "/a/..//evil.example",
    "/././/evil.example",
  ])("falls back for %j", (payload) => {
    expect(safeReturnTo(payload)).toBe(DEFAULT_RETURN_TO);
  });

  it("falls back for a string over 2048 characters", () => {
    expect(safeReturnTo(`/${"a".repeat(2048)}`)).toBe(DEFAULT_RETURN_TO);
  });

  it("keeps a long string of exactly 2048 characters", () => {
    const path = `/${"a".repeat(2047)}`;
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([undefined, null, 42, ["/dashboard"], { toString: () => "/dashboard" }, ""])("falls back for the non-string or empty %j", (value) => {
    expect(safeReturnTo(value)).toBe(DEFAULT_RETURN_TO);
  });

  it("falls back to the fallback it is given", () => {
    expect(safeReturnTo("//evil.example", "/home")).toBe("/home");
  });
});

describe("safeReturnTo on encoded look-alikes, which browsers treat as local paths", () => {
  it.each(["/%09/evil.example", "/%5Cevil.example", "/%2F%2Fevil.example", "/%0a/evil.example"])("returns a single-slash local path for %j", (payload) => {
    const result = safeReturnTo(payload);
    expect(result.startsWith("/")).toBe(true);
    expect(result.startsWith("//")).toBe(false);
    expect(staysLocal(result)).toBe(true);
  });
});

describe("safeReturnTo never returns a value that leaves the origin", () => {
  const inputs = [
    "/dashboard",
    "/%09/evil.example",
    "/%5Cevil.example",
    "//evil.example",
    "/.//evil.example",
    "/%2e%2e/%2e%2e//evil.example",
    "/@evil.example",
    "/:@evil.example",
    "/evil.example:443",
    "/%40evil.example",
    "/ /evil.example",
  ];
  it.each(inputs)("stays on the origin for %j", (payload) => {
    const result = safeReturnTo(payload);
    expect(result.startsWith("/") && !result.startsWith("//")).toBe(true);
    expect(staysLocal(result)).toBe(true);
  });
});

describe("safeReturnUrl", () => {
  it("makes a local path absolute on the base URL", () => {
    expect(safeReturnUrl("/dashboard?tab=1", APP)).toBe(`${APP}/dashboard?tab=1`);
  });

  it("keeps an absolute URL on the same origin", () => {
    expect(safeReturnUrl(`${APP}/notes#new`, APP)).toBe(`${APP}/notes#new`);
  });

  it.each([
    "https://evil.example/dashboard",
    "http://app.example/dashboard",
    "https://app.example:8443/dashboard",
    "https://app.example.evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/.//evil.example",
    `${APP}/.//evil.example`,
    `${APP}//evil.example`,
    `${APP}/\t/evil.example`,
    "javascript:alert(1)",
    "not a url",
    "",
  ])("falls back to the default on the base URL for %j", (raw) => {
    expect(safeReturnUrl(raw, APP)).toBe(`${APP}${DEFAULT_RETURN_TO}`);
  });
});
