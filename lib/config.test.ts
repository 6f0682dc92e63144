import { describe, expect, it, vi } from "vitest";
import { ConfigError, DEV_AUTH_SECRET, DEV_CLIENT_SECRET, loadConfig, readTelemetry } from "./config";

const SECRET_A = "a".repeat(32);
const SECRET_B = "b".repeat(40);

/** A production environment that passes every rule; each test breaks one thing. */
const PRODUCTION = {
  NODE_ENV: "production",
  AUTH_SECRET: SECRET_A,
  AUTH_URL: "https://app.example",
  OIDC_ISSUER: "https://idp.example",
  OIDC_CLIENT_ID: "tessera",
  OIDC_CLIENT_SECRET: "a-real-client-secret",
  OIDC_SCOPE: "openid profile email offline_access notes:read notes:write",
  API_URL: "https://api.example",
  API_AUDIENCE: "https://api.example",
} as const;

/** The variable named by the ConfigError that `load` throws; fails the test if it throws nothing or something else. */
function failingVariable(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variable;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}

describe("loadConfig in development", () => {
  it("works with no environment at all, using the development defaults", () => {
    const config = loadConfig({});
    expect(config.production).toBe(false);
    expect(config.authSecrets).toEqual([DEV_AUTH_SECRET]);
    expect(config.authUrl.href).toBe("http://localhost:3000/");
    expect(config.issuer).toBe("http://localhost:4000");
    expect(config.clientId).toBe("tessera-bff");
    expect(config.clientSecret).toBe(DEV_CLIENT_SECRET);
    expect(config.scope.split(" ")).toEqual(expect.arrayContaining(["openid", "offline_access"]));
    expect(config.audienceStyle).toBe("resource");
    expect(config.apiUrl.href).toBe("http://localhost:4001/");
    expect(config.apiAudience).toBe("http://localhost:4001");
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toBe(".data");
    expect(config.sessionMaxAge).toBe(8 * 60 * 60);
    expect(config.idpTimeoutMs).toBe(5000);
    expect(config.apiTimeoutMs).toBe(10000);
  });

  it("warns that AUTH_SECRET is missing when it falls back to the development secret", () => {
    const warn = vi.fn();
    loadConfig({}, warn);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toContain("AUTH_SECRET");
  });

  it("does not warn when AUTH_SECRET is set", () => {
    const warn = vi.fn();
    loadConfig({ AUTH_SECRET: SECRET_A }, warn);
    expect(warn).not.toHaveBeenCalled();
  });

  it("treats a blank variable as unset", () => {
    const config = loadConfig({ OIDC_ISSUER: "   ", AUTH_SECRET: " " });
    expect(config.issuer).toBe("http://localhost:4000");
    expect(config.authSecrets).toEqual([DEV_AUTH_SECRET]);
  });

  it("refuses a secret shorter than 32 characters even in development", () => {
    expect(failingVariable(() => loadConfig({ AUTH_SECRET: "x".repeat(31) }))).toBe("AUTH_SECRET");
  });
});

describe("loadConfig in production", () => {
  it("accepts a complete, safe environment", () => {
    const config = loadConfig(PRODUCTION);
    expect(config.production).toBe(true);
    expect(config.authSecrets).toEqual([SECRET_A]);
    expect(config.issuer).toBe("https://idp.example");
    expect(config.clientSecret).toBe("a-real-client-secret");
  });

  it("never warns about the secret, since it never falls back to one", () => {
    const warn = vi.fn();
    loadConfig(PRODUCTION, warn);
    expect(warn).not.toHaveBeenCalled();
  });

  it("refuses to start without AUTH_SECRET", () => {
    const { AUTH_SECRET: _omitted, ...env } = PRODUCTION;
    expect(failingVariable(() => loadConfig(env))).toBe("AUTH_SECRET");
  });

  it("refuses a short AUTH_SECRET", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, AUTH_SECRET: "too-short" }))).toBe("AUTH_SECRET");
  });

  it("refuses the development AUTH_SECRET", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, AUTH_SECRET: DEV_AUTH_SECRET }))).toBe("AUTH_SECRET");
  });

  it("refuses the development secret even when it is only one of several", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, AUTH_SECRET: `${SECRET_A},${DEV_AUTH_SECRET}` }))).toBe("AUTH_SECRET");
  });

  it("refuses the development IdP's client secret", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, OIDC_CLIENT_SECRET: DEV_CLIENT_SECRET }))).toBe("OIDC_CLIENT_SECRET");
  });

  it("requires OIDC_CLIENT_SECRET instead of defaulting it", () => {
    const { OIDC_CLIENT_SECRET: _omitted, ...env } = PRODUCTION;
    expect(failingVariable(() => loadConfig(env))).toBe("OIDC_CLIENT_SECRET");
  });

  it("requires OIDC_ISSUER instead of defaulting to the development IdP", () => {
    const { OIDC_ISSUER: _omitted, ...env } = PRODUCTION;
    expect(failingVariable(() => loadConfig(env))).toBe("OIDC_ISSUER");
  });

  it.each(["AUTH_URL", "OIDC_CLIENT_ID", "API_URL", "API_AUDIENCE"] as const)("requires %s instead of using the development default", (variable) => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env[variable];
    expect(failingVariable(() => loadConfig(env))).toBe(variable);
  });

  it("refuses an http:// issuer that is not on loopback", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, OIDC_ISSUER: "http://idp.example" }))).toBe("OIDC_ISSUER");
  });

  it("refuses an http:// AUTH_URL that is not on loopback", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, AUTH_URL: "http://app.example" }))).toBe("AUTH_URL");
  });

  it.each(["http://localhost:4000", "http://127.0.0.1:4000", "http://[::1]:4000"])("allows the loopback http:// issuer %s", (issuer) => {
    expect(loadConfig({ ...PRODUCTION, OIDC_ISSUER: issuer }).issuer).toBe(issuer);
  });

  it("allows an http://localhost AUTH_URL", () => {
    expect(loadConfig({ ...PRODUCTION, AUTH_URL: "http://localhost:3000" }).authUrl.origin).toBe("http://localhost:3000");
  });

  it("does not mistake a host that merely starts with localhost for loopback", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, OIDC_ISSUER: "http://localhost.evil.example" }))).toBe("OIDC_ISSUER");
  });
});

describe("loadConfig URL rules", () => {
  it.each(["https://app.example/app", "https://app.example/?x=1", "https://app.example/#top"])("refuses AUTH_URL %s, which is not a bare origin", (authUrl) => {
    expect(failingVariable(() => loadConfig({ AUTH_URL: authUrl }))).toBe("AUTH_URL");
  });

  it("accepts AUTH_URL with a trailing slash", () => {
    expect(loadConfig({ AUTH_URL: "https://app.example/" }).authUrl.origin).toBe("https://app.example");
  });

  it("refuses an AUTH_URL that is not a URL", () => {
    expect(failingVariable(() => loadConfig({ AUTH_URL: "app.example" }))).toBe("AUTH_URL");
  });

  it("refuses an issuer with a scheme other than http(s)", () => {
    expect(failingVariable(() => loadConfig({ OIDC_ISSUER: "ftp://idp.example" }))).toBe("OIDC_ISSUER");
  });

  it("refuses an API_URL that is not a URL", () => {
    expect(failingVariable(() => loadConfig({ API_URL: "not a url" }))).toBe("API_URL");
  });

  it("names the variable in the error message", () => {
    expect(() => loadConfig({ ...PRODUCTION, OIDC_ISSUER: "http://idp.example" })).toThrow(/OIDC_ISSUER/);
  });
});

describe("loadConfig AUTH_SECRET rotation", () => {
  it("keeps several comma-separated secrets in order, newest first", () => {
    expect(loadConfig({ AUTH_SECRET: `${SECRET_B},${SECRET_A}` }).authSecrets).toEqual([SECRET_B, SECRET_A]);
  });

  it("trims spaces around the secrets and skips empty entries", () => {
    expect(loadConfig({ AUTH_SECRET: ` ${SECRET_B} ,, ${SECRET_A} ,` }).authSecrets).toEqual([SECRET_B, SECRET_A]);
  });

  it("refuses the list when any one secret is short", () => {
    expect(failingVariable(() => loadConfig({ AUTH_SECRET: `${SECRET_B},short` }))).toBe("AUTH_SECRET");
  });
});

describe("loadConfig numbers", () => {
  it("reads SESSION_MAX_AGE in seconds", () => {
    expect(loadConfig({ SESSION_MAX_AGE: "3600" }).sessionMaxAge).toBe(3600);
  });

  it("converts IDP_TIMEOUT and API_TIMEOUT from seconds to milliseconds", () => {
    const config = loadConfig({ IDP_TIMEOUT: "2", API_TIMEOUT: "3" });
    expect(config.idpTimeoutMs).toBe(2000);
    expect(config.apiTimeoutMs).toBe(3000);
  });

  describe.each(["SESSION_MAX_AGE", "IDP_TIMEOUT", "API_TIMEOUT"])("%s", (variable) => {
    it.each(["0", "-5", "1.5", "abc", "10s", "1e3", "0x10"])("refuses %j", (value) => {
      expect(failingVariable(() => loadConfig({ [variable]: value }))).toBe(variable);
    });
  });
});

describe("loadConfig OIDC_AUDIENCE_STYLE", () => {
  it.each(["resource", "audience", "scope", "none"] as const)("accepts %s", (style) => {
    expect(loadConfig({ OIDC_AUDIENCE_STYLE: style }).audienceStyle).toBe(style);
  });

  it("defaults to resource", () => {
    expect(loadConfig({}).audienceStyle).toBe("resource");
  });

  it.each(["Resource", "aud", "resources"])("refuses %j", (style) => {
    expect(failingVariable(() => loadConfig({ OIDC_AUDIENCE_STYLE: style }))).toBe("OIDC_AUDIENCE_STYLE");
  });
});

describe("loadConfig client authentication", () => {
  const KEY = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y", d: "private-part", kid: "k1" });

  it("defaults to client_secret_basic, and takes client_secret_post", () => {
    expect(loadConfig({}).clientAuthMethod).toBe("client_secret_basic");
    expect(loadConfig({ OIDC_CLIENT_AUTH_METHOD: "client_secret_post" }).clientAuthMethod).toBe("client_secret_post");
  });

  it("refuses a method it does not support", () => {
    expect(failingVariable(() => loadConfig({ OIDC_CLIENT_AUTH_METHOD: "client_secret_jwt" }))).toBe("OIDC_CLIENT_AUTH_METHOD");
  });

  it("takes private_key_jwt with a private JWK, and needs no client secret in production", () => {
    const config = loadConfig({ ...PRODUCTION, OIDC_CLIENT_SECRET: "", OIDC_CLIENT_AUTH_METHOD: "private_key_jwt", OIDC_CLIENT_PRIVATE_KEY: KEY });
    expect(config.clientAuthMethod).toBe("private_key_jwt");
    expect(config.clientPrivateKey).toMatchObject({ kty: "EC", d: "private-part", kid: "k1" });
    expect(config.clientSecret).toBe("");
  });

  it("requires the key with private_key_jwt, and a private one, as a JWK, without echoing what it was given", () => {
    expect(failingVariable(() => loadConfig({ OIDC_CLIENT_AUTH_METHOD: "private_key_jwt" }))).toBe("OIDC_CLIENT_PRIVATE_KEY");
    for (const key of ["-----BEGIN CERTIFICATE-----\nMIIE-secret-material", JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" }), JSON.stringify({ kty: "oct", k: "c2VjcmV0", d: "x" })]) {
      try {
        loadConfig({ OIDC_CLIENT_AUTH_METHOD: "private_key_jwt", OIDC_CLIENT_PRIVATE_KEY: key });
        throw new Error("expected a ConfigError");
      } catch (error) {
        expect((error as ConfigError).variable).toBe("OIDC_CLIENT_PRIVATE_KEY");
        expect((error as Error).message).not.toContain("secret-material");
      }
    }
  });

  it("ignores a private key that no method uses", () => {
    expect(loadConfig({ OIDC_CLIENT_PRIVATE_KEY: KEY }).clientPrivateKey).toBeUndefined();
  });
});

describe("loadConfig REDIS_URL", () => {
  it.each(["redis://localhost:6379", "rediss://cache.example:6380/0"])("accepts %s", (redisUrl) => {
    expect(loadConfig({ REDIS_URL: redisUrl }).redisUrl?.href).toBe(redisUrl);
  });

  it("leaves it undefined when blank", () => {
    expect(loadConfig({ REDIS_URL: "  " }).redisUrl).toBeUndefined();
  });

  it.each(["http://localhost:6379", "localhost:6379", "not a url"])("refuses %j", (redisUrl) => {
    expect(failingVariable(() => loadConfig({ REDIS_URL: redisUrl }))).toBe("REDIS_URL");
  });
  it("refuses cleartext redis:// to another host in production, and allows it on loopback", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, REDIS_URL: "redis://cache.example:6379" }))).toBe("REDIS_URL");
    expect(loadConfig({ ...PRODUCTION, REDIS_URL: "redis://127.0.0.1:6379" }).redisUrl?.hostname).toBe("127.0.0.1");
    expect(loadConfig({ ...PRODUCTION, REDIS_URL: "rediss://cache.example:6380" }).redisUrl?.protocol).toBe("rediss:");
  });
});

describe("loadConfig API_URL in production", () => {
  it("refuses http:// to another host: the Bearer token would cross the network in cleartext", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, API_URL: "http://api.internal:4001" }))).toBe("API_URL");
  });

  it("allows http:// on loopback", () => {
    expect(loadConfig({ ...PRODUCTION, API_URL: "http://localhost:4001" }).apiUrl.host).toBe("localhost:4001");
  });
});

describe("loadConfig DATA_DIR", () => {
  it("reads the folder, trimmed", () => {
    expect(loadConfig({ DATA_DIR: " /var/lib/tessera " }).dataDir).toBe("/var/lib/tessera");
  });

  it("falls back to .data when blank", () => {
    expect(loadConfig({ DATA_DIR: "  " }).dataDir).toBe(".data");
  });
});

describe("loadConfig BENCHMARK_ROUTES", () => {
  it.each([undefined, "", "0"])("is off for %j", (value) => {
    expect(loadConfig({ BENCHMARK_ROUTES: value }).benchmarkRoutes).toBe(false);
  });

  it("is on for 1, with a warning", () => {
    const warn = vi.fn();
    expect(loadConfig({ AUTH_SECRET: SECRET_A, BENCHMARK_ROUTES: "1" }, warn).benchmarkRoutes).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toContain("BENCHMARK_ROUTES");
  });

  it.each(["true", "yes", "2"])("refuses %j", (value) => {
    expect(failingVariable(() => loadConfig({ BENCHMARK_ROUTES: value }))).toBe("BENCHMARK_ROUTES");
  });

  it("is refused in production on a public AUTH_URL", () => {
    expect(failingVariable(() => loadConfig({ ...PRODUCTION, BENCHMARK_ROUTES: "1" }))).toBe("BENCHMARK_ROUTES");
  });

  it("is accepted in production on a localhost AUTH_URL, where the benchmark runs", () => {
    expect(loadConfig({ ...PRODUCTION, AUTH_URL: "http://localhost:3200", BENCHMARK_ROUTES: "1" }).benchmarkRoutes).toBe(true);
  });
});

describe("loadConfig INTERNAL_URL", () => {
  it("is this instance's own port on loopback by default", () => {
    expect(loadConfig({}).internalUrl.href).toBe("http://127.0.0.1:3000/");
    expect(loadConfig({ PORT: "3101" }).internalUrl.href).toBe("http://127.0.0.1:3101/");
    expect(loadConfig({ INTERNAL_URL: "http://[::1]:3200" }).internalUrl.href).toBe("http://[::1]:3200/");
  });

  it.each(["https://127.0.0.1:3000", "http://10.0.0.5:3000", "http://127.0.0.1:3000/internal", "not a url"])("refuses %j", (internalUrl) => {
    expect(failingVariable(() => loadConfig({ INTERNAL_URL: internalUrl }))).toBe("INTERNAL_URL");
  });

  it("refuses a PORT that is not a port", () => {
    expect(failingVariable(() => loadConfig({ PORT: "http" }))).toBe("PORT");
  });
});

describe("configuration errors", () => {
  it("never echo a URL, which may carry a password", () => {
    for (const [name, value] of [
      ["REDIS_URL", "redis://:hunter2-password@cache example:6379"],
      ["REDIS_URL", "http://user:hunter2-password@localhost:6379"],
      ["API_URL", "https://user:hunter2-password@api example"],
      ["OIDC_ISSUER", "ftp://user:hunter2-password@idp.example"],
    ] as const) {
      let message = "";
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, name).toMatch(new RegExp(name));
      expect(message, name).not.toContain("hunter2");
    }
  });
});

describe("loadConfig telemetry (OTEL_*)", () => {
  const BASE = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example:4318" };
  const telemetryOf = (env: Record<string, string>) => loadConfig(env).telemetry;
  /** The ConfigError's message for `env`; fails the test when the environment is accepted. */
  const problemWith = (env: Record<string, string>): { variable: string; message: string } => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return { variable: (error as ConfigError).variable, message: (error as Error).message };
    }
    throw new Error("expected loadConfig to throw a ConfigError");
  };

  it("is off by default, and without an endpoint whatever else is set", () => {
    expect(loadConfig({}).telemetry).toBeUndefined();
    expect(loadConfig(PRODUCTION).telemetry).toBeUndefined();
    expect(telemetryOf({ OTEL_SERVICE_NAME: "web", OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_HEADERS: "api-key=x" })).toBeUndefined();
  });

  it("is off with OTEL_SDK_DISABLED=true, even with an endpoint, and on with any other value", () => {
    expect(telemetryOf({ ...BASE, OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(telemetryOf({ ...BASE, OTEL_SDK_DISABLED: " TRUE " })).toBeUndefined();
    expect(telemetryOf({ ...BASE, OTEL_SDK_DISABLED: "false" })).toBeDefined();
    expect(telemetryOf({ ...BASE, OTEL_SDK_DISABLED: "" })).toBeDefined();
  });

  it("sends both signals to a base endpoint, each under its own path, with the defaults", () => {
    expect(telemetryOf(BASE)).toEqual({
      serviceName: "tessera-web",
      sampler: { name: "parentbased_always_on", ratio: 1 },
      traces: { url: new URL("http://collector.example:4318/v1/traces"), protocol: "http/protobuf", headers: {}, timeoutMs: 10_000, scheduleDelayMs: 5_000 },
      metrics: { url: new URL("http://collector.example:4318/v1/metrics"), protocol: "http/protobuf", headers: {}, timeoutMs: 10_000, intervalMs: 60_000 },
    });
  });

  it.each([
    ["https://otlp.example/prefix", "https://otlp.example/prefix/v1/traces", "https://otlp.example/prefix/v1/metrics"],
    ["https://otlp.example/prefix/", "https://otlp.example/prefix/v1/traces", "https://otlp.example/prefix/v1/metrics"],
    ["https://otlp.example/", "https://otlp.example/v1/traces", "https://otlp.example/v1/metrics"],
  ])("appends the signal's path to whatever path the base endpoint %s has", (base, traces, metrics) => {
    const telemetry = telemetryOf({ OTEL_EXPORTER_OTLP_ENDPOINT: base });
    expect(telemetry?.traces?.url.href).toBe(traces);
    expect(telemetry?.metrics?.url.href).toBe(metrics);
  });

  it("uses a signal's own endpoint as it is, and the base endpoint for the other signal", () => {
    const telemetry = telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/custom/ingest" });
    expect(telemetry?.traces?.url.href).toBe("https://traces.example/custom/ingest");
    expect(telemetry?.metrics?.url.href).toBe("http://collector.example:4318/v1/metrics");
  });

  it("sends only the signal that has an endpoint when there is no base endpoint", () => {
    const telemetry = telemetryOf({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "https://metrics.example/v1/metrics" });
    expect(telemetry?.traces).toBeUndefined();
    expect(telemetry?.metrics?.url.href).toBe("https://metrics.example/v1/metrics");
  });

  it("leaves out a signal whose exporter is none, and is off when both are", () => {
    const metricsOnly = telemetryOf({ ...BASE, OTEL_TRACES_EXPORTER: "none" });
    expect(metricsOnly?.traces).toBeUndefined();
    expect(metricsOnly?.metrics?.url.href).toBe("http://collector.example:4318/v1/metrics");
    expect(telemetryOf({ ...BASE, OTEL_METRICS_EXPORTER: "none" })?.metrics).toBeUndefined();
    expect(telemetryOf({ ...BASE, OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none" })).toBeUndefined();
  });

  it.each([
    ["OTEL_TRACES_EXPORTER", "jaeger"],
    ["OTEL_TRACES_EXPORTER", "console"],
    ["OTEL_METRICS_EXPORTER", "prometheus"],
  ])("refuses %s=%s: it exports OTLP only", (variable, value) => {
    expect(problemWith({ ...BASE, [variable]: value }).variable).toBe(variable);
  });

  it("speaks http/protobuf by default, and http/json when asked, for all signals or one", () => {
    expect(telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toMatchObject({ traces: { protocol: "http/json" }, metrics: { protocol: "http/json" } });
    expect(telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json" })).toMatchObject({ traces: { protocol: "http/protobuf" }, metrics: { protocol: "http/json" } });
    expect(telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" })?.traces?.protocol).toBe("http/protobuf");
  });

  it("refuses grpc, naming the variable and the protocol to use instead", () => {
    const problem = problemWith({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(problem.variable).toBe("OTEL_EXPORTER_OTLP_PROTOCOL");
    expect(problem.message).toContain("http/protobuf");
    expect(problemWith({ ...BASE, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }).variable).toBe("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  });

  it("refuses a protocol it does not know", () => {
    expect(problemWith({ ...BASE, OTEL_EXPORTER_OTLP_PROTOCOL: "http" }).variable).toBe("OTEL_EXPORTER_OTLP_PROTOCOL");
  });

  it("reads headers as comma-separated key=value pairs, percent-decoded, names in lower case", () => {
    const telemetry = telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: " API-Key = abc%20def%2C1 , x-tenant=t1,authorization=Basic%20dXNlcjpwYXNz==," });
    const headers = { "api-key": "abc def,1", "x-tenant": "t1", authorization: "Basic dXNlcjpwYXNz==" };
    expect(telemetry?.traces?.headers).toEqual(headers);
    expect(telemetry?.metrics?.headers).toEqual(headers);
  });

  it("lets a signal's own headers override the shared ones, for that signal only", () => {
    const telemetry = telemetryOf({ ...BASE, OTEL_EXPORTER_OTLP_HEADERS: "api-key=shared,x-tenant=t1", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "API-KEY=traces-only" });
    expect(telemetry?.traces?.headers).toEqual({ "api-key": "traces-only", "x-tenant": "t1" });
    expect(telemetry?.metrics?.headers).toEqual({ "api-key": "shared", "x-tenant": "t1" });
  });

  it.each([
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key-SECRET-VALUE"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "=SECRET-VALUE"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api key=SECRET-VALUE"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET-VALUE%E0%A4%A"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET-VALUE%0D%0Ax-injected=1"],
    ["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=SECRET-VALUE,broken"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET-VALUE%00"],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET-VALUE%09tab"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:SECRET-VALUE@otlp.example"],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://SECRET-VALUE@otlp.example/v1/traces"],
  ])("refuses %s=%j without echoing what it holds", (variable, value) => {
    const problem = problemWith({ ...BASE, [variable]: value });
    expect(problem.variable).toBe(variable);
    expect(problem.message).toContain(variable);
    expect(problem.message).not.toContain("SECRET");
  });

  it("refuses a cleartext endpoint off loopback in production, for the base endpoint or a signal's", () => {
    expect(problemWith({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example:4318" }).variable).toBe("OTEL_EXPORTER_OTLP_ENDPOINT");
    expect(problemWith({ ...PRODUCTION, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector.example:4318/v1/metrics" }).variable).toBe("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
  });

  it("allows https, and http on loopback, in production", () => {
    expect(loadConfig({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example" }).telemetry?.traces?.url.href).toBe("https://otlp.example/v1/traces");
    for (const endpoint of ["http://127.0.0.1:4318", "http://localhost:4318", "http://[::1]:4318"]) {
      expect(loadConfig({ ...PRODUCTION, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).telemetry?.metrics?.url.origin).toBe(endpoint);
    }
  });

  it("allows a cleartext endpoint off loopback in development, where a collector runs beside the app", () => {
    expect(telemetryOf(BASE)?.traces?.url.protocol).toBe("http:");
  });

  it("refuses an endpoint that is not an http(s) URL without echoing it, which may carry a password", () => {
    for (const [variable, value] of [
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:hunter2-password@otlp example"],
      ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otlp.example:4318/hunter2-password"],
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://user:hunter2-password@otlp.example:4317"],
    ] as const) {
      const problem = problemWith({ [variable]: value });
      expect(problem.variable).toBe(variable);
      expect(problem.message).not.toContain("hunter2");
    }
  });

  it("reads the sampler and its ratio", () => {
    expect(telemetryOf({ ...BASE, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })?.sampler).toEqual({ name: "traceidratio", ratio: 0.25 });
    expect(telemetryOf({ ...BASE, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" })?.sampler).toEqual({ name: "parentbased_traceidratio", ratio: 0 });
    expect(telemetryOf({ ...BASE, OTEL_TRACES_SAMPLER: "always_off" })?.sampler).toEqual({ name: "always_off", ratio: 1 });
  });

  it.each(["parentbased_jaeger_remote", "xray", "AlwaysOn"])("refuses the sampler %j", (sampler) => {
    expect(problemWith({ ...BASE, OTEL_TRACES_SAMPLER: sampler }).variable).toBe("OTEL_TRACES_SAMPLER");
  });

  it.each(["1.5", "-0.1", "half", "NaN", "Infinity"])("refuses the sampler ratio %j", (ratio) => {
    expect(problemWith({ ...BASE, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: ratio }).variable).toBe("OTEL_TRACES_SAMPLER_ARG");
  });

  it("reads the intervals and timeouts in milliseconds, a signal's own timeout over the shared one", () => {
    const telemetry = telemetryOf({
      ...BASE,
      OTEL_BSP_SCHEDULE_DELAY: "1000",
      OTEL_METRIC_EXPORT_INTERVAL: "15000",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "3000",
    });
    expect(telemetry?.traces).toMatchObject({ scheduleDelayMs: 1_000, timeoutMs: 2_000 });
    expect(telemetry?.metrics).toMatchObject({ intervalMs: 15_000, timeoutMs: 3_000 });
  });

  describe.each(["OTEL_BSP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"])(
    "%s",
    (variable) => {
      it.each(["0", "-5", "1.5", "10s", "1e3"])("refuses %j", (value) => {
        expect(problemWith({ ...BASE, [variable]: value }).variable).toBe(variable);
      });
    },
  );

  it("names the service tessera-web unless OTEL_SERVICE_NAME says otherwise", () => {
    expect(telemetryOf(BASE)?.serviceName).toBe("tessera-web");
    expect(telemetryOf({ ...BASE, OTEL_SERVICE_NAME: " tessera-web-eu " })?.serviceName).toBe("tessera-web-eu");
    expect(telemetryOf({ ...BASE, OTEL_SERVICE_NAME: " " })?.serviceName).toBe("tessera-web");
  });
});

describe("readTelemetry", () => {
  it("takes the caller's default service name and production rule", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example:4318" };
    expect(readTelemetry(env, false, "tessera-other")?.serviceName).toBe("tessera-other");
    expect(failingVariable(() => readTelemetry(env, true, "tessera-other"))).toBe("OTEL_EXPORTER_OTLP_ENDPOINT");
  });
});
