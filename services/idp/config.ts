import path from "node:path";
import { readTestHooksAccess, type TestHooksAccess } from "../shared/test-hooks-access";

/**
 * Settings of the development identity provider. This is the only module of the IdP that reads the environment:
 * everything else receives an `IdpConfig`, which keeps the rest testable without touching `process.env`.
 */
export interface IdpConfig {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind; `undefined` means the loopback interfaces only (IPv4 and, where available, IPv6). */
  host: string | undefined;
  /** Issuer identifier, used verbatim as `iss` and as the base of every endpoint URL. */
  issuer: string;
  /** Public base URL of the web app (the BFF), without a trailing slash. */
  authUrl: string;
  clientId: string;
  clientSecret: string;
  /** How the web app authenticates: the same `OIDC_CLIENT_AUTH_METHOD` the web app reads. */
  clientAuthMethod: ClientAuthMethod;
  /** For `private_key_jwt`: the public half of the web app's `OIDC_CLIENT_PRIVATE_KEY`, which this IdP registers. */
  clientPublicKey: Record<string, unknown> | undefined;
  /** Resource indicator of the downstream API: the `aud` of its access tokens. */
  apiAudience: string;
  accessTokenTtlSeconds: number;
  /** Absolute directory for generated key material. */
  dataDir: string;
  /** Serves the test-only hooks (see test-hooks/index.ts) to callers with this token. Only ever set by test runners. */
  testHooks: TestHooksAccess | undefined;
}

export const DEFAULTS = {
  IDP_PORT: "4000",
  OIDC_ISSUER: "http://localhost:4000",
  AUTH_URL: "http://localhost:3000",
  OIDC_CLIENT_ID: "tessera-bff",
  OIDC_CLIENT_SECRET: "dev-only-tessera-bff-secret",
  API_AUDIENCE: "http://localhost:4001",
  ACCESS_TOKEN_TTL: "300",
  DATA_DIR: ".data",
} as const;

export const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** The members of a JWK that hold its private key (RFC 7518 section 6). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid IdP configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1"]);

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the IdP settings. Every problem is collected so that one start-up attempt reports all of
 * them. Values are never echoed for secrets.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): IdpConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV?.trim() === "production";
  // An empty assignment in a .env file (`FOO=`) means "not set" rather than "set to nothing".
  const read = (name: keyof typeof DEFAULTS): string => {
    const value = env[name]?.trim();
    return value ? value : DEFAULTS[name];
  };

  const port = parseInteger("IDP_PORT", read("IDP_PORT"), 1, 65535, problems);
  const accessTokenTtlSeconds = parseInteger("ACCESS_TOKEN_TTL", read("ACCESS_TOKEN_TTL"), 1, undefined, problems);

  const issuer = read("OIDC_ISSUER");
  const issuerUrl = parseHttpUrl("OIDC_ISSUER", issuer, problems);
  if (issuerUrl) {
    if (issuerUrl.search || issuerUrl.hash || issuer.endsWith("?") || issuer.endsWith("#")) {
      problems.push(`OIDC_ISSUER must not have a query or fragment (got "${issuer}")`);
    }
    // The provider is mounted at the server root, so an issuer with a path would advertise endpoints that 404.
    if (issuerUrl.pathname !== "/") {
      problems.push(`OIDC_ISSUER must not have a path: this IdP serves its endpoints at the root (got "${issuer}")`);
    }
  }

  const authUrlRaw = read("AUTH_URL");
  const authUrlParsed = parseHttpUrl("AUTH_URL", authUrlRaw, problems);
  if (authUrlParsed && (authUrlParsed.search || authUrlParsed.hash)) {
    problems.push(`AUTH_URL must not have a query or fragment (got "${authUrlRaw}")`);
  }
  const authUrl = authUrlParsed ? authUrlParsed.href.replace(/\/+$/, "") : authUrlRaw;

  const apiAudience = read("API_AUDIENCE");
  const audienceUrl = URL.parse(apiAudience);
  if (!audienceUrl) {
    problems.push(`API_AUDIENCE must be an absolute URI (got "${apiAudience}")`);
  } else if (audienceUrl.hash || apiAudience.includes("#")) {
    // RFC 8707 section 2: a resource indicator must not include a fragment component.
    problems.push(`API_AUDIENCE must not have a fragment (got "${apiAudience}")`);
  }

  const clientId = read("OIDC_CLIENT_ID");
  if (!/^[\x21-\x7e]+$/.test(clientId)) {
    problems.push("OIDC_CLIENT_ID must consist of printable ASCII characters without spaces");
  }
  const clientSecret = read("OIDC_CLIENT_SECRET");
  if (!/^[\x21-\x7e]+$/.test(clientSecret)) {
    problems.push("OIDC_CLIENT_SECRET must consist of printable ASCII characters without spaces");
  }

  const clientAuthMethod = (env.OIDC_CLIENT_AUTH_METHOD?.trim() || CLIENT_AUTH_METHODS[0]) as ClientAuthMethod;
  if (!CLIENT_AUTH_METHODS.includes(clientAuthMethod)) {
    problems.push(`OIDC_CLIENT_AUTH_METHOD must be one of ${CLIENT_AUTH_METHODS.join(", ")}`);
  }
  // Everyone knows the default: a production build that runs this IdP (the test stacks) must bring its own, as the
  // web app must. With private_key_jwt no secret authenticates the client, so the default is harmless there.
  if (production && clientSecret === DEFAULTS.OIDC_CLIENT_SECRET && clientAuthMethod !== "private_key_jwt") {
    problems.push("OIDC_CLIENT_SECRET is the development-only default, refused with NODE_ENV=production; set a secret of your own");
  }
  const clientPublicKey = clientAuthMethod === "private_key_jwt" ? publicHalf(env.OIDC_CLIENT_PRIVATE_KEY, problems) : undefined;

  const host = env.IDP_HOST?.trim() || undefined;

  const testHooksRaw = env.IDP_TEST_HOOKS?.trim() ?? "";
  if (!["", "0", "1"].includes(testHooksRaw)) {
    problems.push(`IDP_TEST_HOOKS must be 1 (enabled) or 0/unset (disabled) (got "${testHooksRaw}")`);
  }
  // The hooks hand out tokens to whoever may call them: the test runner that started this IdP, on this machine.
  const testHooks =
    testHooksRaw === "1" ? readTestHooksAccess(env, { enabledBy: "IDP_TEST_HOOKS", production, loopbackUrls: { OIDC_ISSUER: issuer } }, problems) : undefined;
  if (testHooksRaw === "1" && host !== undefined && !LOOPBACK_HOSTS.has(host)) {
    problems.push(`IDP_TEST_HOOKS=1 requires the IdP to listen on loopback only; unset IDP_HOST (got "${host}")`);
  }

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  return {
    port,
    host,
    issuer,
    authUrl,
    clientId,
    clientSecret,
    clientAuthMethod,
    clientPublicKey,
    apiAudience,
    accessTokenTtlSeconds,
    dataDir: path.resolve(cwd, read("DATA_DIR")),
    testHooks,
  };
}

/** The public half of the web app's private JWK; the key itself is never echoed. */
function publicHalf(raw: string | undefined, problems: string[]): Record<string, unknown> | undefined {
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw?.trim() || "null");
  } catch {
    // Reported below.
  }
  if (typeof jwk !== "object" || jwk === null || typeof (jwk as { d?: unknown }).d !== "string") {
    problems.push("OIDC_CLIENT_PRIVATE_KEY must be the web app's private key as a JWK (JSON) with OIDC_CLIENT_AUTH_METHOD=private_key_jwt");
    return undefined;
  }
  return Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_MEMBERS.includes(member)));
}

function parseInteger(name: string, raw: string, min: number, max: number | undefined, problems: string[]): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    problems.push(`${name} must be an integer ${range} (got "${raw}")`);
    return min;
  }
  return value;
}

function parseHttpUrl(name: string, raw: string, problems: string[]): URL | undefined {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    problems.push(`${name} must be an absolute http(s) URL (got "${raw}")`);
    return undefined;
  }
  return url;
}
