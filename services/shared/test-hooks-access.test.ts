import { describe, expect, it } from "vitest";
import { createTestHooksGuard, isLoopbackUrl, readTestHooksAccess } from "./test-hooks-access";

const TOKEN = "a-test-hooks-token-of-at-least-32-characters";

describe("createTestHooksGuard", () => {
  const allowed = createTestHooksGuard({ token: TOKEN }, [4100, 4110]);

  it("admits the right token with a loopback Host naming one of the service's ports", () => {
    for (const host of ["localhost:4100", "127.0.0.1:4100", "[::1]:4100", "localhost:4110", "LOCALHOST:4100"]) {
      expect(allowed(host, TOKEN), host).toBe(true);
    }
  });

  it("refuses a missing, wrong, longer or shorter token", () => {
    for (const token of [undefined, "", "wrong", TOKEN.slice(0, -1), `${TOKEN}x`, ` ${TOKEN}`]) {
      expect(allowed("localhost:4100", token), String(token)).toBe(false);
    }
  });

  it("refuses the right token with another Host: DNS rebinding arrives with the attacker's name", () => {
    for (const host of [undefined, "", "attacker.example:4100", "localhost", "localhost:4101", "localhost.:4100", "127.0.0.2:4100", "localhost:4100@attacker.example", "attacker.example"]) {
      expect(allowed(host, TOKEN), String(host)).toBe(false);
    }
  });

  it("takes a Host without a port for port 80", () => {
    const onDefaultPort = createTestHooksGuard({ token: TOKEN }, [80]);
    expect(onDefaultPort("localhost", TOKEN)).toBe(true);
    expect(onDefaultPort("localhost:80", TOKEN)).toBe(true);
    expect(allowed("localhost", TOKEN)).toBe(false);
  });
});

describe("readTestHooksAccess", () => {
  const read = (env: Record<string, string>, production = false, loopbackUrls: Record<string, string> = { OIDC_ISSUER: "http://localhost:4100" }) => {
    const problems: string[] = [];
    const access = readTestHooksAccess(env, { enabledBy: "IDP_TEST_HOOKS", production, loopbackUrls }, problems);
    return { access, problems };
  };

  it("reads the token", () => {
    expect(read({ TEST_HOOKS_TOKEN: ` ${TOKEN} ` })).toEqual({ access: { token: TOKEN }, problems: [] });
  });

  it("requires it, naming the variable that turned the hooks on", () => {
    for (const value of [undefined, "", "  "]) {
      const { access, problems } = read(value === undefined ? {} : { TEST_HOOKS_TOKEN: value });
      expect(access).toBeUndefined();
      expect(problems).toEqual([expect.stringMatching(/^IDP_TEST_HOOKS=1 requires TEST_HOOKS_TOKEN/)]);
    }
  });

  it("refuses a short token, or one with spaces or other characters a header cannot carry, without echoing it", () => {
    for (const value of ["x".repeat(31), `${"x".repeat(20)} ${"x".repeat(20)}`, `${"x".repeat(32)}é`]) {
      const { problems } = read({ TEST_HOOKS_TOKEN: value });
      expect(problems).toEqual([expect.stringMatching(/^TEST_HOOKS_TOKEN must be at least 32 printable ASCII characters/)]);
      expect(problems[0]).not.toContain(value);
    }
  });

  it("in production, refuses the hooks unless every public URL is on loopback", () => {
    for (const url of ["http://localhost:4100", "http://127.0.0.1:4100", "http://[::1]:4100"]) {
      expect(read({ TEST_HOOKS_TOKEN: TOKEN }, true, { OIDC_ISSUER: url }).problems, url).toEqual([]);
    }
    const { problems } = read({ TEST_HOOKS_TOKEN: TOKEN }, true, { OIDC_ISSUER: "https://idp.example.com", API_AUDIENCE: "http://localhost:4101" });
    expect(problems).toEqual(["IDP_TEST_HOOKS=1 is refused in production unless OIDC_ISSUER is on loopback (localhost, 127.0.0.1 or [::1]): test hooks never run in a deployment"]);
    expect(read({ TEST_HOOKS_TOKEN: TOKEN }, true, { API_AUDIENCE: "api://tessera" }).problems).toEqual([expect.stringContaining("unless API_AUDIENCE is on loopback")]);
    expect(read({ TEST_HOOKS_TOKEN: TOKEN }, false, { OIDC_ISSUER: "https://idp.example.com" }).problems).toEqual([]);
  });
});

describe("isLoopbackUrl", () => {
  it.each([
    ["http://localhost:4000", true],
    ["https://127.0.0.1", true],
    ["http://[::1]:4001/", true],
    ["http://localhost.attacker.example", false],
    ["http://127.0.0.1.nip.io", false],
    ["api://localhost", false],
    ["not a url", false],
  ])("%s: %s", (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});
