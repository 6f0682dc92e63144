import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

const cwd = path.resolve("/srv/tessera");
const TOKEN = "a-test-hooks-token-of-at-least-32-characters";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("works with no environment at all, using the development defaults", () => {
    expect(loadConfig({}, cwd)).toEqual({
      port: 4000,
      host: undefined,
      issuer: "http://localhost:4000",
      authUrl: "http://localhost:3000",
      clientId: "tessera-bff",
      clientSecret: "dev-only-tessera-bff-secret",
      clientAuthMethod: "client_secret_basic",
      clientPublicKey: undefined,
      apiAudience: "http://localhost:4001",
      accessTokenTtlSeconds: 300,
      dataDir: path.join(cwd, ".data"),
      testHooks: undefined,
    });
  });

  it("takes every value from the environment", () => {
    const config = loadConfig(
      {
        IDP_PORT: "4500",
        IDP_HOST: "0.0.0.0",
        OIDC_ISSUER: "https://idp.example.test",
        AUTH_URL: "https://app.example.test/",
        OIDC_CLIENT_ID: "web",
        OIDC_CLIENT_SECRET: "s3cret-value",
        API_AUDIENCE: "https://api.example.test",
        ACCESS_TOKEN_TTL: "1",
        DATA_DIR: "/var/lib/tessera",
      },
      cwd,
    );
    expect(config).toEqual({
      port: 4500,
      host: "0.0.0.0",
      issuer: "https://idp.example.test",
      authUrl: "https://app.example.test",
      clientId: "web",
      clientSecret: "s3cret-value",
      clientAuthMethod: "client_secret_basic",
      clientPublicKey: undefined,
      apiAudience: "https://api.example.test",
      accessTokenTtlSeconds: 1,
      dataDir: "/var/lib/tessera",
      testHooks: undefined,
    });
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ IDP_PORT: "", OIDC_CLIENT_SECRET: "  " }, cwd)).toMatchObject({
      port: 4000,
      clientSecret: "dev-only-tessera-bff-secret",
    });
  });

  it("resolves a relative DATA_DIR against the working directory", () => {
    expect(loadConfig({ DATA_DIR: "tmp/idp-data" }, cwd).dataDir).toBe(path.join(cwd, "tmp/idp-data"));
  });

  it.each([
    ["IDP_PORT", "0"],
    ["IDP_PORT", "70000"],
    ["IDP_PORT", "40a0"],
    ["ACCESS_TOKEN_TTL", "0"],
    ["ACCESS_TOKEN_TTL", "-5"],
    ["ACCESS_TOKEN_TTL", "2.5"],
    ["OIDC_ISSUER", "localhost:4000"],
    ["OIDC_ISSUER", "ftp://localhost:4000"],
    ["OIDC_ISSUER", "http://localhost:4000/oidc"],
    ["OIDC_ISSUER", "http://localhost:4000/?x=1"],
    ["AUTH_URL", "not a url"],
    ["API_AUDIENCE", "relative/path"],
    ["API_AUDIENCE", "http://localhost:4001/#api"],
    ["OIDC_CLIENT_ID", "has space"],
    ["IDP_TEST_HOOKS", "yes"],
  ])("rejects %s=%j with a message naming the variable", (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it("enables the test hooks only when explicitly asked, with a token, and only on loopback", () => {
    const hooks = { IDP_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN };
    expect(loadConfig(hooks, cwd).testHooks).toEqual({ token: TOKEN });
    expect(loadConfig({ IDP_TEST_HOOKS: "0", TEST_HOOKS_TOKEN: TOKEN }, cwd).testHooks).toBeUndefined();
    expect(loadConfig({ TEST_HOOKS_TOKEN: TOKEN }, cwd).testHooks).toBeUndefined();
    expect(loadConfig({ ...hooks, IDP_HOST: "127.0.0.1" }, cwd).testHooks).toEqual({ token: TOKEN });
    expect(problemsOf({ ...hooks, IDP_HOST: "0.0.0.0" })).toEqual([
      expect.stringContaining("IDP_TEST_HOOKS=1 requires the IdP to listen on loopback"),
    ]);
  });

  it("refuses the test hooks without a token, or with a short one", () => {
    expect(problemsOf({ IDP_TEST_HOOKS: "1" })).toEqual([expect.stringMatching(/^IDP_TEST_HOOKS=1 requires TEST_HOOKS_TOKEN/)]);
    expect(problemsOf({ IDP_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: "short" })).toEqual([expect.stringMatching(/^TEST_HOOKS_TOKEN must be at least 32/)]);
  });

  describe("with NODE_ENV=production", () => {
    /** What the end-to-end suite, the interop and cluster stacks and the benchmark run. */
    const TEST_STACK = { NODE_ENV: "production", OIDC_ISSUER: "http://localhost:4100", OIDC_CLIENT_SECRET: "e2e-only-client-secret", IDP_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN };

    it("serves the hooks to a test stack: issuer on loopback, a token, a secret of its own", () => {
      expect(loadConfig(TEST_STACK, cwd).testHooks).toEqual({ token: TOKEN });
      expect(loadConfig({ ...TEST_STACK, OIDC_ISSUER: "http://127.0.0.1:4100" }, cwd).testHooks).toEqual({ token: TOKEN });
    });

    it("refuses the hooks off loopback, and without a token", () => {
      expect(problemsOf({ ...TEST_STACK, OIDC_ISSUER: "https://idp.example.com" })).toEqual([
        "IDP_TEST_HOOKS=1 is refused in production unless OIDC_ISSUER is on loopback (localhost, 127.0.0.1 or [::1]): test hooks never run in a deployment",
      ]);
      expect(problemsOf({ ...TEST_STACK, TEST_HOOKS_TOKEN: "" })).toEqual([expect.stringMatching(/^IDP_TEST_HOOKS=1 requires TEST_HOOKS_TOKEN/)]);
      expect(loadConfig({ ...TEST_STACK, OIDC_ISSUER: "https://idp.example.com", IDP_TEST_HOOKS: "0" }, cwd).testHooks).toBeUndefined();
    });

    it("refuses the development client secret, set or left to its default", () => {
      for (const secret of [{}, { OIDC_CLIENT_SECRET: "dev-only-tessera-bff-secret" }] as Record<string, string>[]) {
        const { OIDC_CLIENT_SECRET: _ignored, ...stack } = TEST_STACK;
        expect(problemsOf({ ...stack, ...secret })).toEqual([expect.stringMatching(/^OIDC_CLIENT_SECRET is the development-only default/)]);
      }
      expect(loadConfig({ OIDC_CLIENT_SECRET: "dev-only-tessera-bff-secret" }, cwd).clientSecret).toBe("dev-only-tessera-bff-secret");
    });

    it("accepts the default secret with private_key_jwt, where no secret authenticates the client", () => {
      const key = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y", d: "private" });
      const { OIDC_CLIENT_SECRET: _ignored, ...stack } = TEST_STACK;
      expect(loadConfig({ ...stack, OIDC_CLIENT_AUTH_METHOD: "private_key_jwt", OIDC_CLIENT_PRIVATE_KEY: key }, cwd).clientAuthMethod).toBe("private_key_jwt");
    });
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ IDP_PORT: "x", ACCESS_TOKEN_TTL: "0", AUTH_URL: "nope" });
    expect(problems.map((p) => p.split(" ")[0])).toEqual(["IDP_PORT", "ACCESS_TOKEN_TTL", "AUTH_URL"]);
  });

  it("never echoes the client secret", () => {
    const secret = "very secret value";
    const problems = problemsOf({ OIDC_CLIENT_SECRET: secret });
    expect(problems[0]).toContain("OIDC_CLIENT_SECRET");
    expect(problems.join("\n")).not.toContain(secret);
  });

  it("registers the web app's public key for private_key_jwt, and never its private members", () => {
    const key = { kty: "RSA", n: "modulus", e: "AQAB", d: "private", p: "p", q: "q", dp: "dp", dq: "dq", qi: "qi", kid: "k1", alg: "RS256" };
    const config = loadConfig({ OIDC_CLIENT_AUTH_METHOD: "private_key_jwt", OIDC_CLIENT_PRIVATE_KEY: JSON.stringify(key) }, cwd);
    expect(config.clientAuthMethod).toBe("private_key_jwt");
    expect(config.clientPublicKey).toEqual({ kty: "RSA", n: "modulus", e: "AQAB", kid: "k1", alg: "RS256" });
  });

  it("refuses an unknown method, and private_key_jwt without a private JWK", () => {
    expect(problemsOf({ OIDC_CLIENT_AUTH_METHOD: "tls_client_auth" })).toEqual([expect.stringContaining("OIDC_CLIENT_AUTH_METHOD must be one of")]);
    expect(problemsOf({ OIDC_CLIENT_AUTH_METHOD: "private_key_jwt", OIDC_CLIENT_PRIVATE_KEY: '{"kty":"RSA","n":"m","e":"AQAB"}' })).toEqual([
      expect.stringContaining("OIDC_CLIENT_PRIVATE_KEY must be"),
    ]);
  });
});
