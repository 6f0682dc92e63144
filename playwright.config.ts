/**
 * End-to-end suite: a real Chromium against the real IdP, API and a production build of the web app.
 *
 * The three processes run on their own ports (not the dev defaults), so the suite can run next to
 * `npm run dev`. Chromium: Playwright's own where installed, else the system one (Debian's `chromium`).
 */
import { existsSync, rmSync } from "node:fs";
import { chromium, defineConfig, devices } from "@playwright/test";
import { ensureTestHooksToken } from "./scripts/test-hooks";

export const E2E = {
  web: "http://localhost:3100",
  idp: "http://localhost:4100",
  api: "http://localhost:4101",
  dataDir: ".data/e2e",
  /** Everything each server prints during the run, captured by scripts/run-logged.mjs. */
  logs: { idp: ".data/e2e/logs/idp.log", api: ".data/e2e/logs/api.log", web: ".data/e2e/logs/web.log" },
  /** Short-lived access tokens, so that every test crosses refreshes and the refresh tests stay quick. */
  accessTokenTtl: 8,
  /** The web app's client at the IdP, so a test can present a captured refresh token as the app would. */
  clientId: "tessera-bff",
  clientSecret: "e2e-only-client-secret-0123456789abcdef",
  authSecret: "e2e-only-auth-secret-0123456789abcdef0123456789",
  /** The suite's OTLP receiver (`scripts/otlp-receiver.ts`): the web app and the API export their telemetry to it. */
  otlp: "http://127.0.0.1:4102",
  telemetryDir: ".data/e2e/telemetry",
  /** What a collector's API key would be: sent with every export, and never to appear anywhere else. */
  collectorKey: "Bearer e2e-only-collector-key-0123456789abcdef",
} as const;

const env = {
  NODE_ENV: "production",
  PORT: "3100",
  IDP_PORT: "4100",
  API_PORT: "4101",
  AUTH_URL: E2E.web,
  OIDC_ISSUER: E2E.idp,
  API_URL: E2E.api,
  API_AUDIENCE: E2E.api,
  // Test-only values: this suite's processes live for one run on loopback.
  AUTH_SECRET: E2E.authSecret,
  OIDC_CLIENT_ID: E2E.clientId,
  OIDC_CLIENT_SECRET: E2E.clientSecret,
  IDP_TEST_HOOKS: "1",
  API_TEST_HOOKS: "1",
  // One per run: made by the main process, which loads this file first, and inherited through the environment by
  // the servers and by the workers (which load this file again and so find it set). Every hook request carries it.
  TEST_HOOKS_TOKEN: ensureTestHooksToken(),
  ACCESS_TOKEN_TTL: String(E2E.accessTokenTtl),
  DATA_DIR: E2E.dataDir,
  // Telemetry on, exported often, so that every test runs with it and the suite can read what it exported.
  OTEL_EXPORTER_OTLP_ENDPOINT: E2E.otlp,
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(E2E.collectorKey)}`,
  OTEL_METRIC_EXPORT_INTERVAL: "500",
  OTEL_BSP_SCHEDULE_DELAY: "200",
};

// Only the main process starts servers; workers load this file too and must not wipe their data.
if (process.env.TEST_WORKER_INDEX === undefined) rmSync(E2E.dataDir, { recursive: true, force: true });

function logged(server: keyof typeof E2E.logs, command: string): string {
  return `node scripts/run-logged.mjs ${E2E.logs[server]} -- ${command}`;
}

function chromiumExecutable(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(chromium.executablePath())) return undefined;
  return "/usr/bin/chromium";
}

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: E2E.web,
    trace: "retain-on-failure",
    ...devices["Desktop Chrome"],
    launchOptions: {
      executablePath: chromiumExecutable(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  projects: [
    { name: "main", testIgnore: [/isolated\//, /interop\//, /cluster\//, /log-scan\.spec\.ts/] },
    // Tests that count the IdP's token requests per user, revoke grants or take the IdP offline: one at a
    // time, after everything else, so no other test's traffic blurs what they measure.
    { name: "isolated", testMatch: /isolated\/.*\.spec\.ts/, dependencies: ["main"], workers: 1 },
    // IdPs other than the suite's own: each spec starts a stack of its own (e2e/interop/stack.ts) on ports of its
    // own, one at a time, after the rest so that its processes do not slow anyone's timing down.
    { name: "interop", testMatch: /interop\/.*\.spec\.ts/, dependencies: ["isolated"], workers: 1 },
    // Several web instances behind nginx, sharing Redis (e2e/cluster/stack.ts): a cluster of their own, after the
    // interop stacks, for the same reason.
    { name: "cluster", testMatch: /cluster\/.*\.spec\.ts/, dependencies: ["interop"], workers: 1 },
    // Last: what the servers logged during every other test.
    { name: "log-scan", testMatch: /log-scan\.spec\.ts/, dependencies: ["isolated"] },
  ],
  webServer: [
    {
      command: `node --import tsx scripts/otlp-receiver.ts ${new URL(E2E.otlp).port} ${E2E.telemetryDir} "${E2E.collectorKey}"`,
      url: `${E2E.otlp}/healthz`,
      timeout: 30_000,
      stdout: "pipe",
    },
    { command: logged("idp", "npm run start:idp"), url: `${E2E.idp}/.well-known/openid-configuration`, env, timeout: 60_000, stdout: "pipe" },
    { command: logged("api", "npm run start:api"), url: `${E2E.api}/healthz`, env, timeout: 60_000, stdout: "pipe" },
    { command: `npm run build && ${logged("web", "npm run start:web")}`, url: E2E.web, env, timeout: 300_000, stdout: "pipe" },
  ],
});
