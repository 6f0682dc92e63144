/**
 * The web app's configuration: the only module that reads `process.env`.
 *
 * `loadConfig` is pure (it takes the environment as an argument) so every rule is unit-tested;
 * `getConfig` validates `process.env` once per process and caches the result. Edge-safe: it uses no
 * Node APIs, so the middleware may import it.
 */
import { CodedError } from "./errors";
import { AUDIENCE_STYLES, type AudienceStyle } from "@/lib/idp/quirks";
import { DEFAULT_REFRESH_SKEW } from "@/lib/refresh/policy";
import { OTLP_PROTOCOLS, SAMPLERS, type OtlpProtocol, type OtlpTarget, type SamplerName, type TelemetrySettings } from "@/lib/telemetry/settings";

export interface Config {
  production: boolean;
  /** Cookie encryption secrets, newest first. The first seals; all of them open. */
  authSecrets: [string, ...string[]];
  authUrl: URL;
  issuer: string;
  clientId: string;
  /** Empty with `private_key_jwt`, which needs none. */
  clientSecret: string;
  /** How the client proves itself at the IdP's token and revocation endpoints (see `idp/client-auth`). */
  clientAuthMethod: ClientAuthMethod;
  /** The client's private key, a JWK, for `private_key_jwt`. */
  clientPrivateKey: PrivateJwk | undefined;
  scope: string;
  /** How the authorization request names the API: RFC 8707 `resource`, Auth0's `audience`, or scopes only. */
  audienceStyle: AudienceStyle;
  apiUrl: URL;
  apiAudience: string;
  redisUrl: URL | undefined;
  /**
   * This instance's own address on loopback, where the middleware reaches the Node-runtime refresh coordination
   * (`INTERNAL_URL`, by default `http://127.0.0.1:$PORT`). Used only with `redisUrl`.
   */
  internalUrl: URL;
  /** Folder for local data (the embedded store of ended sessions lives under `web/`). */
  dataDir: string;
  /** Absolute session lifetime in seconds, counted from sign-in. */
  sessionMaxAge: number;
  /** Refresh the access token this many seconds before it expires (less for very short tokens). */
  refreshSkew: number;
  /** Timeout for every call to the IdP, in milliseconds. */
  idpTimeoutMs: number;
  /** Timeout for every call to the downstream API, in milliseconds. */
  apiTimeoutMs: number;
  /** Serves the benchmark's baseline routes under `/bench/`, which skip the middleware. Benchmarks only. */
  benchmarkRoutes: boolean;
  /** OpenTelemetry export (`OTEL_*`); `undefined`, the default, when no OTLP endpoint is set. */
  telemetry: TelemetrySettings | undefined;
}

export class ConfigError extends CodedError<"invalid_config"> {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super("invalid_config", `Invalid configuration: ${variable} ${problem}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The client authentication methods the app supports, the first the default (RFC 6749 section 2.3.1, OIDC Core 9). */
export const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** A private key as a JSON Web Key (RFC 7517): its `kty`, the private member `d`, and optionally `alg` and `kid`. */
export interface PrivateJwk {
  kty: string;
  d: string;
  alg?: string;
  kid?: string;
  [member: string]: unknown;
}

export const DEV_AUTH_SECRET = "dev-only-secret-do-not-use-in-production-0123456789";
export const DEV_CLIENT_SECRET = "dev-only-tessera-bff-secret";
const MIN_SECRET_LENGTH = 32;
/** The same in every environment: OIDC claims, a refresh token, and the demo API's scopes. */
export const DEFAULT_SCOPE = "openid profile email offline_access notes:read notes:write";

export function loadConfig(env: Env, warn: (message: string) => void = () => {}): Config {
  const production = env.NODE_ENV === "production";
  const read = (name: string, devDefault?: string): string => {
    const value = env[name]?.trim();
    if (value) return value;
    if (devDefault !== undefined && !production) return devDefault;
    throw new ConfigError(name, production ? "is required in production" : "is required");
  };

  const authSecrets = readSecrets(env.AUTH_SECRET, production, warn);
  const authUrl = readUrl("AUTH_URL", read("AUTH_URL", "http://localhost:3000"), production);
  if (authUrl.pathname !== "/" || authUrl.search || authUrl.hash) {
    throw new ConfigError("AUTH_URL", "must be an origin with no path, query or fragment");
  }
  const issuer = read("OIDC_ISSUER", "http://localhost:4000");
  readUrl("OIDC_ISSUER", issuer, production);
  const clientAuthMethod = readClientAuthMethod(env.OIDC_CLIENT_AUTH_METHOD);
  const usesKey = clientAuthMethod === "private_key_jwt";
  const clientSecret = usesKey ? (env.OIDC_CLIENT_SECRET?.trim() ?? "") : read("OIDC_CLIENT_SECRET", DEV_CLIENT_SECRET);
  if (production && clientSecret === DEV_CLIENT_SECRET) {
    throw new ConfigError("OIDC_CLIENT_SECRET", "is the development IdP's secret; set the real client secret");
  }
  const clientPrivateKey = env.OIDC_CLIENT_PRIVATE_KEY?.trim() ? readPrivateJwk(env.OIDC_CLIENT_PRIVATE_KEY.trim()) : undefined;
  if (usesKey && !clientPrivateKey) throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "is required with OIDC_CLIENT_AUTH_METHOD=private_key_jwt");
  const apiAudience = read("API_AUDIENCE", "http://localhost:4001");

  return {
    production,
    authSecrets,
    authUrl,
    issuer,
    clientId: read("OIDC_CLIENT_ID", "tessera-bff"),
    clientSecret,
    clientAuthMethod,
    clientPrivateKey: usesKey ? clientPrivateKey : undefined,
    scope: env.OIDC_SCOPE?.trim() || DEFAULT_SCOPE,
    audienceStyle: readAudienceStyle(env.OIDC_AUDIENCE_STYLE),
    // The Bearer token travels to the API: in cleartext only on loopback.
    apiUrl: readUrl("API_URL", read("API_URL", "http://localhost:4001"), production),
    apiAudience,
    redisUrl: env.REDIS_URL?.trim() ? readRedisUrl(env.REDIS_URL.trim(), production) : undefined,
    internalUrl: readInternalUrl(env),
    dataDir: env.DATA_DIR?.trim() || ".data",
    sessionMaxAge: readSeconds(env, "SESSION_MAX_AGE", 8 * 60 * 60),
    refreshSkew: readSeconds(env, "REFRESH_SKEW", DEFAULT_REFRESH_SKEW),
    idpTimeoutMs: readSeconds(env, "IDP_TIMEOUT", 5) * 1000,
    apiTimeoutMs: readSeconds(env, "API_TIMEOUT", 10) * 1000,
    benchmarkRoutes: readBenchmarkRoutes(env.BENCHMARK_ROUTES, authUrl, production, warn),
    telemetry: readTelemetry(env, production, "tessera-web"),
  };
}

/**
 * The OpenTelemetry SDK's standard variables (its environment specification), for the part this app implements:
 * OTLP over HTTP, with an endpoint per signal or a base one. Telemetry stays off without an endpoint, and with
 * `OTEL_SDK_DISABLED=true`.
 */
export function readTelemetry(env: Env, production: boolean, defaultServiceName: string): TelemetrySettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const target = (signal: "traces" | "metrics"): OtlpTarget | undefined => {
    const upper = signal.toUpperCase();
    const exporter = env[`OTEL_${upper}_EXPORTER`]?.trim() || "otlp";
    if (exporter !== "otlp" && exporter !== "none") throw new ConfigError(`OTEL_${upper}_EXPORTER`, "must be otlp or none: this app exports OTLP over HTTP only");
    const specific = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]?.trim();
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
    if (exporter === "none" || (!specific && !base)) return undefined;
    const name = specific ? `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT` : "OTEL_EXPORTER_OTLP_ENDPOINT";
    const endpoint = readUrl(name, specific ?? base!, production);
    // The edge runtime's fetch refuses them, the Node exporter drops them: a key goes in the headers.
    if (endpoint.username || endpoint.password) throw new ConfigError(name, "must not hold credentials: put them in OTEL_EXPORTER_OTLP_HEADERS");
    const url = specific ? endpoint : withSignalPath(endpoint, signal);
    return {
      url,
      protocol: readOtlpProtocol(env, upper),
      headers: { ...readOtlpHeaders(env, "OTEL_EXPORTER_OTLP_HEADERS"), ...readOtlpHeaders(env, `OTEL_EXPORTER_OTLP_${upper}_HEADERS`) },
      timeoutMs: readMilliseconds(env, `OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`, readMilliseconds(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 10_000)),
    };
  };
  const traces = target("traces");
  const metrics = target("metrics");
  if (!traces && !metrics) return undefined;
  return {
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    sampler: readSampler(env),
    traces: traces && { ...traces, scheduleDelayMs: readMilliseconds(env, "OTEL_BSP_SCHEDULE_DELAY", 5_000) },
    metrics: metrics && { ...metrics, intervalMs: readMilliseconds(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000) },
  };
}

/** The specification's rule for a base endpoint: the signal's path is appended to whatever path it has. */
function withSignalPath(base: URL, signal: "traces" | "metrics"): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/${signal}`;
  return url;
}

function readOtlpProtocol(env: Env, upper: string): OtlpProtocol {
  const name = env[`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`]?.trim() ? `OTEL_EXPORTER_OTLP_${upper}_PROTOCOL` : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const value = env[name]?.trim() || OTLP_PROTOCOLS[0];
  if (value === "grpc") throw new ConfigError(name, "grpc is not supported: use http/protobuf (a collector's OTLP/HTTP port, 4318 by default)");
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) throw new ConfigError(name, `must be one of ${OTLP_PROTOCOLS.join(", ")}`);
  return value as OtlpProtocol;
}

/** `key=value` pairs, comma-separated, values percent-encoded. Never echoed: they are often an API key. */
function readOtlpHeaders(env: Env, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (env[name] ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(name, "holds a value that is not valid percent-encoding");
    }
    if (at < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\x00-\x1f\x7f]/.test(value)) {
      throw new ConfigError(name, "must be key=value pairs separated by commas (values percent-encoded)");
    }
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

function readSampler(env: Env): TelemetrySettings["sampler"] {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || SAMPLERS[0];
  if (!(SAMPLERS as readonly string[]).includes(name)) throw new ConfigError("OTEL_TRACES_SAMPLER", `must be one of ${SAMPLERS.join(", ")}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new ConfigError("OTEL_TRACES_SAMPLER_ARG", "must be a ratio between 0 and 1");
  return { name: name as SamplerName, ratio };
}

function readMilliseconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(name, "must be a whole number of milliseconds, at least 1");
  return Number(raw);
}

/**
 * The benchmark compares each path with a copy of it that leaves out the part measured: `/bench/notes`
 * forwards a Bearer token the caller brings, `/bench/dashboard` renders without the middleware (no session
 * gate, refresh or CSP). Harmless on a loopback benchmark, never wanted where real users can reach them,
 * so production accepts them only on a localhost AUTH_URL.
 */
function readBenchmarkRoutes(raw: string | undefined, authUrl: URL, production: boolean, warn: (message: string) => void): boolean {
  const value = raw?.trim() ?? "";
  if (value !== "" && value !== "0" && value !== "1") throw new ConfigError("BENCHMARK_ROUTES", "must be 1 (on) or 0/unset (off)");
  if (value !== "1") return false;
  if (production && !LOOPBACK_HOSTS.has(authUrl.hostname)) {
    throw new ConfigError("BENCHMARK_ROUTES", "is refused in production unless AUTH_URL is on localhost: the benchmark routes skip the session gate");
  }
  warn("BENCHMARK_ROUTES=1: serving /bench/notes and /bench/dashboard, which skip the middleware. For benchmarks only.");
  return true;
}

function readSecrets(raw: string | undefined, production: boolean, warn: (message: string) => void): [string, ...string[]] {
  const secrets = (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (secrets.length === 0) {
    if (production) throw new ConfigError("AUTH_SECRET", "is required in production");
    warn("AUTH_SECRET is not set: using a development-only secret. Never run like this in production.");
    return [DEV_AUTH_SECRET];
  }
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError("AUTH_SECRET", `must hold secrets of at least ${MIN_SECRET_LENGTH} characters each`);
    }
    if (production && secret === DEV_AUTH_SECRET) {
      throw new ConfigError("AUTH_SECRET", "is the development-only secret");
    }
  }
  return secrets as [string, ...string[]];
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Plain `http://` is tolerated only on loopback in production: anything else would expose tokens in transit. */
function readUrl(name: string, value: string, production: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Never echoed: a URL may carry credentials.
    throw new ConfigError(name, "is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(name, "must be an http(s) URL");
  }
  if (production && url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new ConfigError(name, "must use https:// outside localhost");
  }
  return url;
}

/** The list of ended sessions must not be readable or writable on the wire: `rediss://` off loopback in production. */
function readRedisUrl(value: string, production: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("REDIS_URL", "is not a valid URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError("REDIS_URL", "must be a redis:// or rediss:// URL");
  }
  if (production && url.protocol === "redis:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new ConfigError("REDIS_URL", "must use rediss:// (TLS) outside localhost");
  }
  return url;
}

/** Tokens cross this hop: it must stay on this machine. */
function readInternalUrl(env: Env): URL {
  const port = env.PORT?.trim() || "3000";
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new ConfigError("PORT", "must be a TCP port number");
  const url = readUrl("INTERNAL_URL", env.INTERNAL_URL?.trim() || `http://127.0.0.1:${port}`, false);
  if (url.protocol !== "http:" || !LOOPBACK_HOSTS.has(url.hostname) || url.pathname !== "/" || url.search) {
    throw new ConfigError("INTERNAL_URL", "must be an http:// origin on loopback (127.0.0.1, [::1] or localhost): this instance's own address");
  }
  return url;
}

function readClientAuthMethod(raw: string | undefined): ClientAuthMethod {
  const value = raw?.trim() || CLIENT_AUTH_METHODS[0];
  if (!(CLIENT_AUTH_METHODS as readonly string[]).includes(value)) {
    throw new ConfigError("OIDC_CLIENT_AUTH_METHOD", `must be one of ${CLIENT_AUTH_METHODS.join(", ")}`);
  }
  return value as ClientAuthMethod;
}

/** Never echoes the value: it is a private key. */
function readPrivateJwk(raw: string): PrivateJwk {
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw);
  } catch {
    throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "must be a private key as a JSON Web Key (a JSON object), not PEM or anything else");
  }
  const { kty, d, alg, kid } = (typeof jwk === "object" && jwk !== null ? jwk : {}) as Record<string, unknown>;
  if (typeof kty !== "string" || !["RSA", "EC", "OKP"].includes(kty)) throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "must be a JWK whose kty is RSA, EC or OKP");
  if (typeof d !== "string") throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "must be a private JWK (it has no \"d\")");
  if (alg !== undefined && typeof alg !== "string") throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "has an alg that is not a string");
  if (kid !== undefined && typeof kid !== "string") throw new ConfigError("OIDC_CLIENT_PRIVATE_KEY", "has a kid that is not a string");
  return jwk as PrivateJwk;
}

function readAudienceStyle(raw: string | undefined): AudienceStyle {
  const value = raw?.trim() || "resource";
  if (!(AUDIENCE_STYLES as readonly string[]).includes(value)) {
    throw new ConfigError("OIDC_AUDIENCE_STYLE", `must be one of ${AUDIENCE_STYLES.join(", ")}`);
  }
  return value as AudienceStyle;
}

function readSeconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new ConfigError(name, "must be a whole number of seconds, at least 1");
  }
  return Number(raw);
}

let cached: Config | undefined;

export function getConfig(): Config {
  cached ??= loadConfig(process.env, (message) => console.warn(`[config] ${message}`));
  return cached;
}
