import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, "/repo");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("configuration was accepted");
};

const TOKEN = "a-test-hooks-token-of-at-least-32-characters";

/** The least a production deployment must set. */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: "production",
  OIDC_ISSUER: "https://login.example.com",
  API_AUDIENCE: "api://tessera",
};

describe("loadConfig", () => {
  it("works with no environment at all", () => {
    expect(loadConfig({}, "/repo")).toEqual({
      production: false,
      port: 4001,
      host: "127.0.0.1",
      issuer: "http://localhost:4000",
      audience: "http://localhost:4001",
      databaseFile: path.resolve("/repo/.data/api/notes.sqlite"),
      clockTolerance: 5,
      acceptedTokenTypes: ["at+jwt"],
      trustedLogoutAudiences: ["tessera-bff"],
      maxTokenTtl: 3600,
      testHooks: undefined,
    });
  });

  it("takes every variable, treating empty ones as unset", () => {
    const config = loadConfig(
      {
        API_PORT: "5001",
        API_HOST: "0.0.0.0",
        OIDC_ISSUER: "https://login.example.com/realms/tessera",
        API_AUDIENCE: "api://tessera",
        DATA_DIR: "/var/lib/tessera",
        CLOCK_TOLERANCE: "0",
        ACCEPTED_TOKEN_TYPES: " at+jwt , JWT,application/at+jwt",
        TRUSTED_LOGOUT_AUDIENCES: "web, admin-console,web",
        REDIS_URL: "rediss://cache.example.com:6380/0",
        MAX_TOKEN_TTL: "900",
        NODE_ENV: "production",
      },
      "/repo",
    );
    expect(config).toEqual({
      production: true,
      port: 5001,
      host: "0.0.0.0",
      issuer: "https://login.example.com/realms/tessera",
      audience: "api://tessera",
      databaseFile: path.resolve("/var/lib/tessera/api/notes.sqlite"),
      clockTolerance: 0,
      acceptedTokenTypes: ["at+jwt", "jwt"],
      trustedLogoutAudiences: ["web", "admin-console"],
      redisUrl: "rediss://cache.example.com:6380/0",
      maxTokenTtl: 900,
      testHooks: undefined,
    });
    expect(loadConfig({ API_PORT: "", REDIS_URL: "" }, "/repo")).toMatchObject({ port: 4001 });
    expect(loadConfig({ REDIS_URL: "" }, "/repo")).not.toHaveProperty("redisUrl");
  });

  it("keeps the issuer exactly as written, trailing slash included", () => {
    expect(loadConfig({ OIDC_ISSUER: "https://tenant.example.com/" }, "/").issuer).toBe("https://tenant.example.com/");
  });

  it.each([
    ["API_PORT", { API_PORT: "http" }],
    ["API_PORT", { API_PORT: "70000" }],
    ["API_PORT", { API_PORT: "-1" }],
    ["CLOCK_TOLERANCE", { CLOCK_TOLERANCE: "1.5" }],
    ["CLOCK_TOLERANCE", { CLOCK_TOLERANCE: "3600" }],
    ["MAX_TOKEN_TTL", { MAX_TOKEN_TTL: "0" }],
    ["OIDC_ISSUER", { OIDC_ISSUER: "localhost:4000" }],
    ["OIDC_ISSUER", { OIDC_ISSUER: "ftp://idp.example.com" }],
    ["OIDC_ISSUER", { OIDC_ISSUER: "https://idp.example.com/?tenant=1" }],
    ["OIDC_ISSUER", { OIDC_ISSUER: "http://idp.example.com", API_AUDIENCE: "api://tessera", NODE_ENV: "production" }],
    ["API_AUDIENCE", { API_AUDIENCE: "two words" }],
    ["ACCEPTED_TOKEN_TYPES", { ACCEPTED_TOKEN_TYPES: " , " }],
    ["ACCEPTED_TOKEN_TYPES", { ACCEPTED_TOKEN_TYPES: "at+jwt;q=1" }],
    ["TRUSTED_LOGOUT_AUDIENCES", { TRUSTED_LOGOUT_AUDIENCES: " , " }],
    ["TRUSTED_LOGOUT_AUDIENCES", { TRUSTED_LOGOUT_AUDIENCES: "web,admin console" }],
    ["REDIS_URL", { REDIS_URL: "http://cache:6379" }],
    ["REDIS_URL", { REDIS_URL: "not a url" }],
  ])("names %s when it is invalid", (name, env) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it("allows an http issuer on localhost in production", () => {
    expect(loadConfig({ ...PRODUCTION, OIDC_ISSUER: "http://127.0.0.1:4000" }, "/").issuer).toBe("http://127.0.0.1:4000");
  });

  describe("in production", () => {
    it.each(["OIDC_ISSUER", "API_AUDIENCE"])("requires %s to be set, rather than trusting the dev IdP's", (name) => {
      for (const value of [undefined, "", "  "]) {
        const env: Record<string, string> = { ...PRODUCTION };
        if (value === undefined) delete env[name];
        else env[name] = value;
        expect(problemsOf(env)).toEqual([`${name} must be set in production`]);
      }
      const { [name]: _, ...development } = PRODUCTION;
      expect(() => loadConfig({ ...development, NODE_ENV: "development" }, "/")).not.toThrow();
    });

    it("accepts the development defaults when they are set explicitly", () => {
      const config = loadConfig({ NODE_ENV: "production", OIDC_ISSUER: "http://localhost:4000", API_AUDIENCE: "http://localhost:4001" }, "/");
      expect(config).toMatchObject({ issuer: "http://localhost:4000", audience: "http://localhost:4001" });
    });

    it.each(["redis://cache.example.com:6379", "redis://:secret@10.0.0.5:6379/0", "redis://redis"])(
      "refuses the cleartext REDIS_URL %s to another host",
      (url) => {
        const problems = problemsOf({ ...PRODUCTION, REDIS_URL: url });
        expect(problems).toEqual(["REDIS_URL must use rediss: in production (redis: is allowed for localhost only)"]);
        expect(problems.join()).not.toContain("secret");
      },
    );

    it.each(["redis://:hunter2@cache example:6379", "http://user:hunter2@localhost:6379"])("never echoes the REDIS_URL %s, which carries a password", (url) => {
      const problems = problemsOf({ REDIS_URL: url });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^REDIS_URL must/);
      expect(problems.join()).not.toContain("hunter2");
    });

    it.each(["rediss://cache.example.com:6380", "redis://127.0.0.1:6379", "redis://localhost", "redis://[::1]:6379"])(
      "accepts the REDIS_URL %s",
      (url) => {
        expect(loadConfig({ ...PRODUCTION, REDIS_URL: url }, "/").redisUrl).toBe(url);
      },
    );

    it("allows a cleartext REDIS_URL to another host outside production", () => {
      expect(loadConfig({ REDIS_URL: "redis://redis:6379" }, "/").redisUrl).toBe("redis://redis:6379");
    });

    /** The end-to-end suite's API. */
    const TEST_STACK = { NODE_ENV: "production", OIDC_ISSUER: "http://localhost:4100", API_AUDIENCE: "http://localhost:4101", API_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN };

    it("runs the end-to-end suite's API: test hooks on loopback, with a token, issuer and audience on loopback", () => {
      expect(loadConfig(TEST_STACK, "/")).toMatchObject({ host: "127.0.0.1", testHooks: { token: TOKEN } });
      expect(problemsOf({ ...TEST_STACK, API_HOST: "0.0.0.0" })).toEqual(["API_TEST_HOOKS=1 requires API_HOST to be a loopback address"]);
    });

    it("refuses the test hooks where the issuer or the audience is not on loopback: a deployment", () => {
      expect(problemsOf({ ...PRODUCTION, API_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN })).toEqual([
        "API_TEST_HOOKS=1 is refused in production unless OIDC_ISSUER is on loopback (localhost, 127.0.0.1 or [::1]): test hooks never run in a deployment",
        "API_TEST_HOOKS=1 is refused in production unless API_AUDIENCE is on loopback (localhost, 127.0.0.1 or [::1]): test hooks never run in a deployment",
      ]);
      expect(problemsOf({ ...TEST_STACK, API_AUDIENCE: "https://api.example.com" })).toEqual([expect.stringContaining("unless API_AUDIENCE is on loopback")]);
      expect(loadConfig({ ...PRODUCTION, API_TEST_HOOKS: "0", TEST_HOOKS_TOKEN: TOKEN }, "/").testHooks).toBeUndefined();
    });

    it("refuses the test hooks without a token", () => {
      expect(problemsOf({ ...TEST_STACK, TEST_HOOKS_TOKEN: "" })).toEqual([expect.stringMatching(/^API_TEST_HOOKS=1 requires TEST_HOOKS_TOKEN/)]);
    });
  });

  it("refuses an API audience that is also one of the apps' client ids", () => {
    const problems = problemsOf({ API_AUDIENCE: "tessera-bff" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^API_AUDIENCE must differ from each of TRUSTED_LOGOUT_AUDIENCES/);
    expect(problemsOf({ API_AUDIENCE: "api", TRUSTED_LOGOUT_AUDIENCES: "web,api" })[0]).toMatch(/^API_AUDIENCE/);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ API_PORT: "x", OIDC_ISSUER: "nope", REDIS_URL: "mysql://db" });
    expect(problems.map((p) => p.split(" ")[0])).toEqual(["API_PORT", "OIDC_ISSUER", "REDIS_URL"]);
  });

  it("enables the test hooks only when asked, with a token, and only on loopback", () => {
    expect(loadConfig({ API_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN }, "/repo").testHooks).toEqual({ token: TOKEN });
    expect(loadConfig({ TEST_HOOKS_TOKEN: TOKEN }, "/repo").testHooks).toBeUndefined();
    expect(problemsOf({ API_TEST_HOOKS: "yes" })[0]).toMatch(/^API_TEST_HOOKS/);
    expect(problemsOf({ API_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: TOKEN, API_HOST: "0.0.0.0" })).toEqual(["API_TEST_HOOKS=1 requires API_HOST to be a loopback address"]);
    expect(problemsOf({ API_TEST_HOOKS: "1" })).toEqual([expect.stringMatching(/^API_TEST_HOOKS=1 requires TEST_HOOKS_TOKEN/)]);
    expect(problemsOf({ API_TEST_HOOKS: "1", TEST_HOOKS_TOKEN: "short" })).toEqual([expect.stringMatching(/^TEST_HOOKS_TOKEN must be at least 32/)]);
  });
});
