import path from "node:path";
import { readTestHooksAccess, type TestHooksAccess } from "../shared/test-hooks-access";
import { readTelemetrySettings, type ApiTelemetrySettings } from "./telemetry/settings";
import { normalizeTokenType } from "./tokens/signed-token";

/** The API's settings. This module is the only place in the API that reads the environment. */
export interface ApiConfig {
  /** `NODE_ENV=production`: unsafe settings are refused rather than warned about. */
  production: boolean;
  port: number;
  host: string;
  issuer: string;
  audience: string;
  /** Absolute path of the SQLite file under DATA_DIR. */
  databaseFile: string;
  /** Seconds. */
  clockTolerance: number;
  acceptedTokenTypes: string[];
  /**
   * Client ids of the apps: the API honours their back-channel logout tokens (their `aud`), and refuses as an ID token
   * any access token addressed to one of them.
   */
  trustedLogoutAudiences: string[];
  redisUrl?: string;
  /** Seconds: the longest an access token of this issuer can live; bounds how long a revoked session is remembered. */
  maxTokenTtl: number;
  /** Test-only hooks under /__test/ (API_TEST_HOOKS=1), for the end-to-end suite: loopback only, for callers with this token. */
  testHooks: TestHooksAccess | undefined;
  /** OpenTelemetry traces and metrics (the OTEL_* variables, see `telemetry/settings.ts`); `undefined`: off, the default. */
  telemetry: ApiTelemetrySettings | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

type Env = Record<string, string | undefined>;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Reads and validates everything at once, so a bad deployment lists all its mistakes in one go. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): ApiConfig {
  const problems: string[] = [];
  // An empty variable (as compose files and CI often produce) means "use the default".
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };

  const url = (name: string, fallback: string | undefined, protocols: string[]): string | undefined => {
    const raw = read(name) ?? fallback;
    if (raw === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      // Never echoed: a URL may carry credentials (a REDIS_URL its password).
      problems.push(`${name} must be an absolute URL`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`${name} must use ${protocols.join(" or ")}, got ${parsed.protocol}`);
      return undefined;
    }
    return raw;
  };

  const list = (name: string, fallback: string): string[] =>
    (read(name) ?? fallback)
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");

  const production = read("NODE_ENV") === "production";
  // The defaults trust the embedded dev IdP; a deployment must name its own.
  const required = (name: string, fallback: string): string => {
    const value = read(name);
    if (value === undefined && production) problems.push(`${name} must be set in production`);
    return value ?? fallback;
  };

  const port = integer("API_PORT", 4001, 1, 65535);
  const host = read("API_HOST") ?? "127.0.0.1";
  const clockTolerance = integer("CLOCK_TOLERANCE", 5, 0, 300);
  const maxTokenTtl = integer("MAX_TOKEN_TTL", 3600, 1, 86_400);

  // The issuer is compared byte for byte with `iss`, so it is kept exactly as written.
  const issuer = url("OIDC_ISSUER", required("OIDC_ISSUER", "http://localhost:4000"), ["http:", "https:"]) ?? "";
  if (issuer !== "") {
    const { protocol, hostname, search, hash } = new URL(issuer);
    if (search !== "" || hash !== "") problems.push("OIDC_ISSUER must not contain a query or fragment");
    if (production && protocol === "http:" && !LOOPBACK_HOSTS.has(hostname)) {
      problems.push("OIDC_ISSUER must use https: in production (http: is allowed for localhost only)");
    }
  }

  const audience = required("API_AUDIENCE", "http://localhost:4001");
  if (/\s/.test(audience)) problems.push("API_AUDIENCE must not contain whitespace");

  const acceptedTokenTypes = list("ACCEPTED_TOKEN_TYPES", "at+jwt");
  if (acceptedTokenTypes.length === 0 || acceptedTokenTypes.some((typ) => !/^[A-Za-z0-9.+/-]+$/.test(typ))) {
    problems.push(`ACCEPTED_TOKEN_TYPES must be a comma-separated list of media types such as "at+jwt,JWT"`);
  }

  const trustedLogoutAudiences = list("TRUSTED_LOGOUT_AUDIENCES", "tessera-bff");
  if (trustedLogoutAudiences.length === 0 || trustedLogoutAudiences.some((aud) => /\s/.test(aud))) {
    problems.push("TRUSTED_LOGOUT_AUDIENCES must be a comma-separated list of client ids such as \"tessera-bff\"");
  }

  if (trustedLogoutAudiences.includes(audience)) {
    // Every access token would be refused as an ID token (see `clientIds` of the access-token verifier).
    problems.push("API_AUDIENCE must differ from each of TRUSTED_LOGOUT_AUDIENCES: the API is not one of its clients");
  }

  const redisUrl = url("REDIS_URL", undefined, ["redis:", "rediss:"]);
  // The revocation list crosses the network there: in the clear, anyone on the path could read or forge it.
  if (production && redisUrl !== undefined) {
    const { protocol, hostname } = new URL(redisUrl);
    if (protocol === "redis:" && !LOOPBACK_HOSTS.has(hostname)) {
      problems.push("REDIS_URL must use rediss: in production (redis: is allowed for localhost only)");
    }
  }

  const testHooksRaw = read("API_TEST_HOOKS") ?? "0";
  if (testHooksRaw !== "0" && testHooksRaw !== "1") problems.push(`API_TEST_HOOKS must be 1 or 0/unset, got ${JSON.stringify(testHooksRaw)}`);
  // An API that trusts a real issuer, or is known by a real audience, is a deployment: no hooks there.
  const testHooks =
    testHooksRaw === "1"
      ? readTestHooksAccess(env, { enabledBy: "API_TEST_HOOKS", production, loopbackUrls: { OIDC_ISSUER: issuer, API_AUDIENCE: audience } }, problems)
      : undefined;
  if (testHooksRaw === "1" && !LOOPBACK_HOSTS.has(host)) problems.push("API_TEST_HOOKS=1 requires API_HOST to be a loopback address");
  const dataDir = path.resolve(cwd, read("DATA_DIR") ?? ".data");
  const telemetry = readTelemetrySettings(read, { production }, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    production,
    port,
    host,
    issuer,
    audience,
    databaseFile: path.join(dataDir, "api", "notes.sqlite"),
    clockTolerance,
    acceptedTokenTypes: [...new Set(acceptedTokenTypes.map(normalizeTokenType))],
    trustedLogoutAudiences: [...new Set(trustedLogoutAudiences)],
    ...(redisUrl === undefined ? {} : { redisUrl }),
    maxTokenTtl,
    testHooks,
    telemetry,
  };
}
