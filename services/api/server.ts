import { serve, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { verifyAccessToken } from "./tokens/access-token";
import { createApi } from "./app";
import { ConfigError, loadConfig, type ApiConfig } from "./config";
import { DatabaseInUseError, openDatabase, type SqliteDatabase } from "./database";
import { createIssuerKeys } from "./tokens/issuer-keys";
import { createJsonLogger } from "./logger";
import { verifyLogoutToken } from "./tokens/logout-token";
import { createSqliteNotesStore } from "./notes-store";
import { checkEvictionPolicy, connectRedis, createRedisRevocationStore } from "./revocation/redis";
import { createSqliteRevocationStore } from "./revocation/sqlite";
import { withTestHooks } from "./test-hooks";
import { createVerificationCache } from "./tokens/verification-cache";

const log = createJsonLogger();

let config: ApiConfig;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

// Before anything else is made, so that all of it can be measured; the SDK is loaded only when telemetry is on.
const telemetry = config.telemetry === undefined ? undefined : (await import("./telemetry/sdk")).startTelemetry(config.telemetry, { log });

let db: SqliteDatabase;
try {
  db = openDatabase(config.databaseFile);
} catch (error) {
  if (!(error instanceof DatabaseInUseError)) throw error;
  log.error("api_start_failed", { code: error.code, reason: error.message });
  process.exit(1);
}
const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, log);
// At every connection: an evicting Redis stops the API in production, and is a warning in development.
redis?.on("ready", () => void checkEvictionPolicy(redis, { production: config.production, log, exit: (code) => process.exit(code) }));
const getKey = createIssuerKeys({ issuer: config.issuer, log });
const verifyOptions = {
  getKey,
  issuer: config.issuer,
  audience: config.audience,
  clockTolerance: config.clockTolerance,
  acceptedTypes: config.acceptedTokenTypes,
  clientIds: config.trustedLogoutAudiences,
};

const logoutOptions = {
  getKey,
  issuer: config.issuer,
  audiences: config.trustedLogoutAudiences,
  clockTolerance: config.clockTolerance,
};

const app = createApi({
  verifier: createVerificationCache((token) => verifyAccessToken(token, verifyOptions)),
  logoutTokenVerifier: (token) => verifyLogoutToken(token, logoutOptions),
  notes: createSqliteNotesStore(db),
  revocations: redis === undefined ? createSqliteRevocationStore(db) : createRedisRevocationStore(redis),
  log,
  maxTokenTtl: config.maxTokenTtl,
  clockTolerance: config.clockTolerance,
  // The embedded store is this process's own file, open since start-up; Redis must answer.
  readiness: () => Promise.all([getKey.ready(), redis?.ping()]),
});

if (config.testHooks) {
  log.warn("api_test_hooks_enabled", { hooks: "/__test/outage drops every other request, for loopback requests with TEST_HOOKS_TOKEN; never enable outside tests" });
}

const fetch = (request: Request, env: HttpBindings | Http2Bindings) => app.fetch(request, env);
const server = serve({ fetch: config.testHooks ? withTestHooks(fetch, config.testHooks, config.port) : fetch, port: config.port, hostname: config.host }, (info) => {
  log.info("api_started", {
    url: `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`,
    issuer: config.issuer,
    audience: config.audience,
    acceptedTokenTypes: config.acceptedTokenTypes,
    trustedLogoutAudiences: config.trustedLogoutAudiences,
    revocationStore: redis === undefined ? "sqlite" : "redis",
    database: config.databaseFile,
  });
});

server.on("error", (error) => {
  log.error("api_listen_failed", { port: config.port, host: config.host, error });
  process.exit(1);
});

function shutdown(signal: string) {
  log.info("api_stopping", { signal });
  // Connections that do not drain in time must not keep the process alive.
  setTimeout(() => process.exit(0), 5_000).unref();
  server.close(() => {
    db.close();
    redis?.disconnect();
    // What the last requests recorded is exported first; the timer above still bounds the wait.
    if (telemetry === undefined) process.exit(0);
    else void telemetry.shutdown().then(() => process.exit(0));
  });
}
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
