/**
 * A stack of its own for the interoperability tests: the dev IdP behind the IdP double, the API and the web app
 * (the suite's production build), configured as a deployment against another IdP would be: its own client id,
 * secret or key, and authentication method. Started by the spec that needs it, on ports of its own, and stopped
 * with a check that none of the tokens its IdP issued reached any of its logs.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import { startTessera, type Service } from "../../scripts/processes";
import { ensureTestHooksToken, fetchTestHook } from "../../scripts/test-hooks";
import { expectNoTokenIn, tokenNeedles } from "../support";
import { startIdpDouble, type IdpDouble } from "./idp-double";

export const INTEROP = {
  web: "http://localhost:3110",
  /** The issuer: the double's address. */
  idp: "http://localhost:4110",
  api: "http://localhost:4112",
  idpPort: 4111,
  /** Short, so that a test reaches a refresh in seconds. */
  accessTokenTtl: 6,
  /** Web's timeout for IdP calls, in seconds: the hanging-IdP test waits it out once. */
  idpTimeout: 2,
} as const;

export interface Client {
  clientId: string;
  clientSecret: string;
  method: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  /** A private JWK, as JSON, for private_key_jwt. */
  privateKey?: string;
  /** The double compares Basic credentials as sent, as an IdP that does not percent-decode them. */
  strictBasic?: boolean;
}

export interface Stack {
  double: IdpDouble;
  log(server: "web" | "idp" | "api"): string;
  stop(): Promise<void>;
}

export async function startStack(name: string, client: Client): Promise<Stack> {
  const dataDir = path.join(".data/e2e/interop", name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const logFile = (server: string) => path.join(dataDir, `${server}.log`);
  const env = {
    NODE_ENV: "production",
    PORT: new URL(INTEROP.web).port,
    IDP_PORT: String(INTEROP.idpPort),
    API_PORT: new URL(INTEROP.api).port,
    AUTH_URL: INTEROP.web,
    OIDC_ISSUER: INTEROP.idp,
    API_URL: INTEROP.api,
    API_AUDIENCE: INTEROP.api,
    AUTH_SECRET: "e2e-interop-auth-secret-0123456789abcdef0123456789",
    OIDC_CLIENT_ID: client.clientId,
    OIDC_CLIENT_SECRET: client.clientSecret,
    OIDC_CLIENT_AUTH_METHOD: client.method,
    OIDC_CLIENT_PRIVATE_KEY: client.privateKey ?? "",
    TRUSTED_LOGOUT_AUDIENCES: client.clientId,
    IDP_TEST_HOOKS: "1",
    TEST_HOOKS_TOKEN: ensureTestHooksToken(),
    ACCESS_TOKEN_TTL: String(INTEROP.accessTokenTtl),
    IDP_TIMEOUT: String(INTEROP.idpTimeout),
    DATA_DIR: dataDir,
  };
  const double = await startIdpDouble({
    port: Number(new URL(INTEROP.idp).port),
    idpPort: INTEROP.idpPort,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    strictBasic: client.strictBasic ?? false,
  });
  let services: Service[];
  try {
    services = await startTessera({
      env,
      ready: { idp: `${INTEROP.idp}/.well-known/openid-configuration`, api: `${INTEROP.api}/healthz`, web: INTEROP.web },
      logFile,
    });
  } catch (error) {
    await double.close();
    throw error;
  }

  const log = (server: "web" | "idp" | "api") => readFileSync(logFile(server), "utf8");
  return {
    double,
    log,
    async stop() {
      // As the main suite's log scan: no token this IdP issued appears in any of the stack's logs.
      const needles = tokenNeedles((await (await fetchTestHook(INTEROP.idp, "issued")).json()) as Record<string, string[]>);
      expect(needles.length).toBeGreaterThan(0);
      for (const server of ["web", "idp", "api"] as const) expectNoTokenIn(log(server), needles, `${server} log`);
      await Promise.all([...services.map((service) => service.stop()), double.close()]);
    },
  };
}

/** The signed-in user and when their access token expires (epoch milliseconds), asked from the page. */
export async function me(page: Page): Promise<{ sub: string; accessTokenExpiresAt: number }> {
  const body = await page.evaluate(async () => {
    const response = await fetch("/api/me", { headers: { "x-csrf": "1" }, cache: "no-store" });
    return response.ok ? ((await response.json()) as { sub: string; accessTokenExpiresAt: string }) : null;
  });
  expect(body).not.toBeNull();
  return { sub: body!.sub, accessTokenExpiresAt: Date.parse(body!.accessTokenExpiresAt) };
}

/**
 * Waits, on the wall clock the IdP's tokens expire by, until the session's access token has expired. The page
 * waits on the landing page, which asks nothing of the session: the dashboard's countdown would refresh it.
 */
export async function untilExpired(page: Page, { onDashboard = false } = {}): Promise<void> {
  const { accessTokenExpiresAt } = await me(page);
  if (!onDashboard) await page.goto(`${INTEROP.web}/`);
  await page.waitForTimeout(Math.max(0, accessTokenExpiresAt - Date.now()) + 200);
}

export interface DataAnswer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/**
 * `count` data requests at once, sent as the page's own scripts send them: `fetch` from the page (which must be on
 * the web app's origin), with the anti-forgery header. The browser, unlike a test's request client, never reuses a
 * connection the server has already closed after the test's long waits.
 */
export function fetchData(page: Page, count = 1): Promise<DataAnswer[]> {
  return page.evaluate(
    (n) =>
      Promise.all(
        Array.from({ length: n }, async () => {
          const response = await fetch("/api/notes", { headers: { "x-csrf": "1" }, cache: "no-store" });
          return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json().catch(() => null) };
        }),
      ),
    count,
  );
}

export async function signOut(page: Page): Promise<void> {
  await page.goto(`${INTEROP.web}/dashboard`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${INTEROP.web}/signed-out?state=complete`);
  await expect(page.getByRole("heading", { name: "You are signed out." })).toBeVisible();
}
