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
      telemetry: undefined,
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
      telemetry: undefined,
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

describe("loadConfig: telemetry (OTEL_*)", () => {
  const telemetryOf = (env: Record<string, string>) => loadConfig(env, "/repo").telemetry;
  const COLLECTOR = "http://collector:4318";
  /** Both signals, every default. */
  const DEFAULTS = {
    serviceName: "tessera-api",
    sampler: { name: "parentbased_always_on", ratio: 1 },
    traces: { url: new URL("http://collector:4318/v1/traces"), protocol: "http/protobuf", headers: {}, timeoutMs: 10_000, scheduleDelayMs: 5_000 },
    metrics: { url: new URL("http://collector:4318/v1/metrics"), protocol: "http/protobuf", headers: {}, timeoutMs: 10_000, intervalMs: 60_000 },
  };

  it("is off by default, and with every endpoint variable empty", () => {
    expect(telemetryOf({})).toBeUndefined();
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: " ", OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "" })).toBeUndefined();
    // Settings without an endpoint send nothing anywhere.
    expect(telemetryOf({ OTEL_SERVICE_NAME: "api", OTEL_TRACES_SAMPLER: "always_on", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toBeUndefined();
  });

  it("sends both signals to the base endpoint's /v1/traces and /v1/metrics, with every default", () => {
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR })).toEqual(DEFAULTS);
  });

  it.each([
    ["http://collector:4318", "/v1/traces"],
    ["http://collector:4318/", "/v1/traces"],
    ["http://collector:4318/otlp", "/otlp/v1/traces"],
    ["http://collector:4318/otlp/", "/otlp/v1/traces"],
  ])("appends v1/traces to the base %s's path with one slash between", (base, pathname) => {
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: base })?.traces?.url.pathname).toBe(pathname);
  });

  it("uses a signal's own endpoint as is, over the base", () => {
    const telemetry = telemetryOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example.com/ingest",
    });
    expect(telemetry?.traces?.url.href).toBe("https://traces.example.com/ingest");
    expect(telemetry?.metrics?.url.href).toBe("http://collector:4318/v1/metrics");
  });

  it("turns on only the signals that have an endpoint", () => {
    const traces = telemetryOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" });
    expect(traces?.traces?.url.href).toBe("http://collector:4318/v1/traces");
    expect(traces).not.toHaveProperty("metrics");
    const metrics = telemetryOf({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:4318/v1/metrics" });
    expect(metrics?.metrics?.url.href).toBe("http://collector:4318/v1/metrics");
    expect(metrics).not.toHaveProperty("traces");
  });

  it.each(["true", "TRUE", "True"])("is off with OTEL_SDK_DISABLED=%s, whatever else is set", (value) => {
    expect(telemetryOf({ OTEL_SDK_DISABLED: value, OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_EXPORTER: "zipkin" })).toBeUndefined();
  });

  it.each(["false", "0", ""])("stays on with OTEL_SDK_DISABLED=%s", (value) => {
    expect(telemetryOf({ OTEL_SDK_DISABLED: value, OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR })).toEqual(DEFAULTS);
  });

  it("turns a signal off with its exporter set to none, and is off when both are", () => {
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_EXPORTER: "none" })).toEqual({ ...DEFAULTS, traces: undefined });
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_METRICS_EXPORTER: "none" })).toEqual({ ...DEFAULTS, metrics: undefined });
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none" })).toBeUndefined();
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_EXPORTER: "otlp", OTEL_METRICS_EXPORTER: "otlp" })).toEqual(DEFAULTS);
  });

  it.each([
    ["OTEL_TRACES_EXPORTER", "console"],
    ["OTEL_TRACES_EXPORTER", "otlp,console"],
    ["OTEL_METRICS_EXPORTER", "prometheus"],
  ])("refuses %s=%s: only otlp or none", (name, value) => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, [name]: value })).toEqual([
      `${name} must be otlp or none: only OTLP export is supported, got "${value}"`,
    ]);
    // Even without an endpoint: the setting is wrong either way.
    expect(problemsOf({ [name]: value })).toHaveLength(1);
  });

  describe("endpoints", () => {
    it.each([
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"],
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "not a url"],
      ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector/v1/traces"],
      ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "grpc://collector:4317"],
    ])("refuses %s=%s: an absolute http(s) URL", (name, value) => {
      expect(problemsOf({ [name]: value })).toEqual([`${name} must be an absolute http: or https: URL`]);
    });

    it("reports a shared endpoint's problem once, though both signals use it", () => {
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "nope" })).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http: or https: URL"]);
    });

    it.each(["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])("refuses credentials in %s: a key goes in the headers", (name) => {
      for (const value of ["https://user:hunter2@collector.example", "https://hunter2@collector.example/v1/traces"]) {
        expect(problemsOf({ [name]: value })).toEqual([`${name} must not hold credentials: put them in OTEL_EXPORTER_OTLP_HEADERS`]);
      }
    });

    it.each([
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ])("never echoes %s, which may carry credentials", (name) => {
      for (const value of ["https://user:hunter2@col lector/", "ftp://user:hunter2@collector/", "hunter2"]) {
        const problems = problemsOf({ [name]: value });
        expect(problems).toHaveLength(1);
        expect(problems.join()).not.toContain("hunter2");
      }
      const production = problemsOf({ ...PRODUCTION, [name]: "http://user:hunter2@collector.example.com:4318" });
      expect(production).toHaveLength(1);
      expect(production.join()).not.toContain("hunter2");
    });

    describe("in production", () => {
      it.each([
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
      ])("refuses %s over http: to another host: the headers may carry an API key", (name) => {
        expect(problemsOf({ ...PRODUCTION, [name]: "http://collector.example.com:4318" })).toEqual([
          `${name} must use https: in production (http: is allowed for localhost only: the export headers may carry an API key)`,
        ]);
      });

      it.each(["http://localhost:4318", "http://127.0.0.1:4318", "http://[::1]:4318", "https://collector.example.com"])("accepts %s", (url) => {
        expect(loadConfig({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: url }, "/").telemetry?.traces?.url.origin).toBe(new URL(url).origin);
      });
    });

    it("allows http: to another host outside production", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example.com:4318" })?.metrics?.url.href).toBe(
        "http://collector.example.com:4318/v1/metrics",
      );
    });
  });

  describe("protocol", () => {
    it("is http/protobuf by default, the shared setting otherwise, and a signal's own over it", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toMatchObject({
        traces: { protocol: "http/json" },
        metrics: { protocol: "http/json" },
      });
      expect(
        telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf" }),
      ).toMatchObject({ traces: { protocol: "http/json" }, metrics: { protocol: "http/protobuf" } });
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" })).toMatchObject({
        traces: { protocol: "http/json" },
        metrics: { protocol: "http/protobuf" },
      });
    });

    it.each(["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"])(
      "refuses %s=grpc, pointing at http/protobuf on port 4318",
      (name) => {
        expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, [name]: "grpc" })).toEqual([
          `${name}=grpc is not supported: use http/protobuf, on the collector's OTLP/HTTP port (4318)`,
        ]);
      },
    );

    it("refuses any other protocol", () => {
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_PROTOCOL: "http/xml" })).toEqual([
        'OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got "http/xml"',
      ]);
    });
  });

  describe("headers", () => {
    it("decodes key=value pairs, the signal's own winning key by key", () => {
      const telemetry = telemetryOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR,
        OTEL_EXPORTER_OTLP_HEADERS: " api-key = shared%20key , X-Tenant=acme,",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "API-Key=traces%3Dkey%2C1,authorization=Basic%20dXNlcjpwYXNz",
      });
      expect(telemetry?.traces?.headers).toEqual({ "api-key": "traces=key,1", "x-tenant": "acme", authorization: "Basic dXNlcjpwYXNz" });
      expect(telemetry?.metrics?.headers).toEqual({ "api-key": "shared key", "x-tenant": "acme" });
    });

    it("takes an empty value, and an equals sign inside one", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_HEADERS: "a=,b=x=y" })?.traces?.headers).toEqual({ a: "", b: "x=y" });
    });

    it.each([
      ["OTEL_EXPORTER_OTLP_HEADERS", "api-key"],
      ["OTEL_EXPORTER_OTLP_HEADERS", "=hunter2"],
      ["OTEL_EXPORTER_OTLP_HEADERS", "api key=hunter2"],
      ["OTEL_EXPORTER_OTLP_HEADERS", "api-key=hunter2%zz"],
      ["OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=hunter2%0D%0AX-Injected:1"],
      ["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=hunter2%C3%A9"],
      ["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "ok=1,api-key:hunter2"],
    ])("refuses %s=%s without echoing it", (name, value) => {
      const problems = problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, [name]: value });
      expect(problems).toEqual([`${name} must be a comma-separated list of key=value pairs, values percent-encoded`]);
      expect(problems.join()).not.toContain("hunter2");
    });
  });

  describe("timing", () => {
    it("takes the export timeout from the shared setting, a signal's own over it", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_TIMEOUT: "3000" })).toMatchObject({
        traces: { timeoutMs: 3000 },
        metrics: { timeoutMs: 3000 },
      });
      expect(
        telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_EXPORTER_OTLP_TIMEOUT: "3000", OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "1500", OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "2500" }),
      ).toMatchObject({ traces: { timeoutMs: 1500 }, metrics: { timeoutMs: 2500 } });
    });

    it("takes the metric interval and the span batch delay", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_METRIC_EXPORT_INTERVAL: "15000", OTEL_BSP_SCHEDULE_DELAY: "1000" })).toMatchObject({
        traces: { scheduleDelayMs: 1000 },
        metrics: { intervalMs: 15_000 },
      });
    });

    it.each([
      "OTEL_EXPORTER_OTLP_TIMEOUT",
      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
      "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
      "OTEL_METRIC_EXPORT_INTERVAL",
      "OTEL_BSP_SCHEDULE_DELAY",
    ])("refuses %s unless it is a positive whole number of milliseconds", (name) => {
      for (const value of ["0", "-1", "1.5", "10s", "2147483648"]) {
        expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, [name]: value })).toEqual([
          `${name} must be a whole number of milliseconds from 1 to 2147483647, got "${value}"`,
        ]);
      }
    });
  });

  it("names the service tessera-api unless OTEL_SERVICE_NAME says otherwise", () => {
    expect(telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_SERVICE_NAME: "notes-api" })?.serviceName).toBe("notes-api");
  });

  describe("sampler", () => {
    const samplerOf = (env: Record<string, string>) => telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, ...env })?.sampler;

    it.each(["always_on", "always_off", "parentbased_always_on", "parentbased_always_off"])("takes %s, ignoring an argument it has no use for", (name) => {
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name })).toEqual({ name, ratio: 1 });
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: "not a ratio" })).toEqual({ name, ratio: 1 });
    });

    it.each(["traceidratio", "parentbased_traceidratio"])("takes %s with its ratio, 1 by default", (name) => {
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name })).toEqual({ name, ratio: 1 });
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: "0.25" })).toEqual({ name, ratio: 0.25 });
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: "0" })).toEqual({ name, ratio: 0 });
      expect(samplerOf({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: ".5" })).toEqual({ name, ratio: 0.5 });
    });

    it.each(["1.5", "-0.1", "half", "1e-3"])("refuses the ratio %s", (arg) => {
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: arg })).toEqual([
        `OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got "${arg}"`,
      ]);
    });

    it("refuses a sampler it does not know", () => {
      expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR, OTEL_TRACES_SAMPLER: "jaeger_remote" })).toEqual([
        expect.stringMatching(/^OTEL_TRACES_SAMPLER must be one of always_on, .*, got "jaeger_remote"$/),
      ]);
    });

    it("does not judge the sampler when no traces are sent", () => {
      expect(telemetryOf({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:4318/v1/metrics", OTEL_TRACES_SAMPLER: "jaeger_remote" })?.sampler).toEqual({
        name: "parentbased_always_on",
        ratio: 1,
      });
    });
  });

  it("lists every telemetry problem at once", () => {
    const problems = problemsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "nope",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_HEADERS: "broken",
      OTEL_EXPORTER_OTLP_TIMEOUT: "0",
      OTEL_METRICS_EXPORTER: "console",
    });
    expect(problems.map((problem) => problem.split(/[ =]/)[0])).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_EXPORTER_OTLP_TIMEOUT",
      "OTEL_METRICS_EXPORTER",
    ]);
  });
});
