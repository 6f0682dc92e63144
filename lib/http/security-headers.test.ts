import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce, STATIC_SECURITY_HEADERS, STRICT_TRANSPORT_SECURITY } from "./security-headers";

const OPTIONS = { nonce: "bm9uY2Utbm9uY2Utbm9uY2U=", idpOrigin: "https://idp.example", development: false, https: true };

/** The policy as a map of directive name to its sources. */
function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(";").map((part) => {
    const [name = "", ...sources] = part.trim().split(/\s+/);
    return [name, sources];
  }));
}

describe("contentSecurityPolicy", () => {
  it("allows only scripts with this response's nonce, and what they load, never inline ones", () => {
    const scripts = directives(contentSecurityPolicy(OPTIONS)).get("script-src");
    expect(scripts).toEqual(["'self'", `'nonce-${OPTIONS.nonce}'`, "'strict-dynamic'"]);
  });

  it("relaxes in development only: 'unsafe-eval' for React's development build, inline styles for the dev tools, never inline scripts", () => {
    const development = contentSecurityPolicy({ ...OPTIONS, development: true });
    expect(directives(development).get("script-src")).toContain("'unsafe-eval'");
    expect(directives(development).get("script-src")).not.toContain("'unsafe-inline'");
    expect(directives(development).get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    const production = contentSecurityPolicy(OPTIONS);
    expect(production).not.toContain("'unsafe-inline'");
    expect(production).not.toContain("'unsafe-eval'");
    expect(contentSecurityPolicy(OPTIONS)).not.toContain("'unsafe-eval'");
  });

  it("refuses framing, plugins and <base>, and lets forms post only here and to the IdP", () => {
    const policy = directives(contentSecurityPolicy(OPTIONS));
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    expect(policy.get("form-action")).toEqual(["'self'", OPTIONS.idpOrigin]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
    expect(policy.get("connect-src")).toEqual(["'self'"]);
  });

  it("upgrades insecure requests only where the app is served over https", () => {
    expect(directives(contentSecurityPolicy(OPTIONS)).has("upgrade-insecure-requests")).toBe(true);
    expect(directives(contentSecurityPolicy({ ...OPTIONS, https: false })).has("upgrade-insecure-requests")).toBe(false);
  });
});

describe("newNonce", () => {
  it("is 128 random bits, base64, different every time", () => {
    const nonces = Array.from({ length: 100 }, newNonce);
    for (const nonce of nonces) expect(atob(nonce)).toHaveLength(16);
    expect(new Set(nonces).size).toBe(100);
  });
});

describe("static headers", () => {
  const headers = new Map(STATIC_SECURITY_HEADERS.map(({ key, value }) => [key.toLowerCase(), value]));

  it("turn off MIME sniffing and framing, and limit referrers to strict-origin-when-cross-origin or stricter", () => {
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(["strict-origin-when-cross-origin", "strict-origin", "same-origin", "no-referrer"]).toContain(headers.get("referrer-policy"));
  });

  it("deny powerful browser features in a Permissions-Policy", () => {
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) {
      expect(headers.get("permissions-policy")).toContain(`${feature}=()`);
    }
  });

  it("keep HSTS out of the static set: it depends on the deployment's scheme (see the middleware)", () => {
    expect(headers.has("strict-transport-security")).toBe(false);
    expect(STRICT_TRANSPORT_SECURITY).toMatch(/^max-age=(\d+); includeSubDomains$/);
    expect(Number(/max-age=(\d+)/.exec(STRICT_TRANSPORT_SECURITY)?.[1])).toBeGreaterThanOrEqual(365 * 24 * 3600);
  });
});
