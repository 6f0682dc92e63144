/**
 * Shared steps for the end-to-end suite. They act as a user would (through the IdP's real login
 * page) or as an operator would (the dev IdP's test-only hooks); never by reaching into the app.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { expect, type APIRequestContext, type APIResponse, type BrowserContext, type Page } from "@playwright/test";
import { parseSetCookie, type SetCookie } from "../lib/testing/set-cookie";
import { E2E } from "../playwright.config";
import { testHooksHeaders } from "../scripts/test-hooks";

export const USERS = {
  alice: { username: "alice", password: "wonderland", name: "Alice Liddell", email: "alice@example.com" },
  bob: { username: "bob", password: "builder", name: "Bob Builder", email: "bob@example.com" },
} as const;

export type User = (typeof USERS)[keyof typeof USERS];

/** What the app's own fetch helper sends to `/api/*`, and the Origin a browser adds to unsafe methods. */
export const BFF_HEADERS = { "x-csrf": "1", origin: E2E.web } as const;

/** A text no other test run will have written. */
export const unique = (label: string) => `${label} ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Where a stack answers: the suite's own by default; the interop tests start others (`e2e/interop/stack.ts`). */
export interface Origins {
  web: string;
  idp: string;
}

export async function submitLogin(page: Page, user: { username: string; password: string }, { idp }: Pick<Origins, "idp"> = E2E): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${idp}/`));
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in from the landing page and waits for the dashboard. */
export async function signIn(page: Page, user: User, origins: Origins = E2E): Promise<void> {
  await page.goto(`${origins.web}/`);
  await page.getByRole("link", { name: "Sign in" }).click();
  await submitLogin(page, user, origins);
  await expect(page).toHaveURL(`${origins.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${user.name}` })).toBeVisible();
}

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * A call to a test-only hook (`path` under `/__test/`) of the service at `origin`, the dev IdP's or the API's, with
 * this run's token: without it the hooks answer 404, as if they did not exist (scripts/test-hooks.ts).
 */
export function testHook(request: APIRequestContext, method: "GET" | "POST" | "DELETE", origin: string, path: string): Promise<APIResponse> {
  return request.fetch(`${origin}/__test/${path}`, { method, headers: testHooksHeaders() });
}

/** The last token response the IdP issued for `sub`, from the dev IdP's test-only hook. */
export async function latestTokens(request: APIRequestContext, sub: string): Promise<IssuedTokens> {
  const response = await testHook(request, "GET", E2E.idp, `tokens?sub=${encodeURIComponent(sub)}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as IssuedTokens;
}

export async function currentSub(page: Page): Promise<string> {
  const response = await page.request.get("/api/me", { headers: BFF_HEADERS });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { sub: string }).sub;
}

export interface IdpStats {
  refreshGrants: number;
  codeGrants: number;
  refreshFailures: number;
}

/** How many token-endpoint grants the IdP issued for `sub`, from the dev IdP's test-only hook. */
export async function idpStats(request: APIRequestContext, sub: string): Promise<IdpStats> {
  const response = await testHook(request, "GET", E2E.idp, `stats?sub=${encodeURIComponent(sub)}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as IdpStats;
}

export async function idpHook(request: APIRequestContext, path: string): Promise<void> {
  const response = await testHook(request, "POST", E2E.idp, path);
  expect(response.ok(), `POST /__test/${path}`).toBe(true);
}

/** The API's test-only hook (`API_TEST_HOOKS=1`): `outage?down=1|0`. */
export async function apiHook(request: APIRequestContext, path: string): Promise<void> {
  const response = await testHook(request, "POST", E2E.api, path);
  expect(response.ok(), `POST ${E2E.api}/__test/${path}`).toBe(true);
}

export interface SessionTiming {
  sub: string;
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: number;
}

export async function sessionTiming(page: Page): Promise<SessionTiming> {
  const response = await page.request.get("/api/me", { headers: BFF_HEADERS });
  expect(response.status()).toBe(200);
  const me = (await response.json()) as { sub: string; accessTokenExpiresAt: string };
  return { sub: me.sub, accessTokenExpiresAt: Date.parse(me.accessTokenExpiresAt) };
}

/** Real time is the point here: the IdP's tokens expire on the wall clock. */
export async function waitUntil(page: Page, epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
}

/** Every auth cookie's name but the ID token's starts with this; the browser then insists on Secure, Path=/ and no Domain. */
export const AUTH_COOKIE_PREFIX = "__Host-tessera-";
export const SESSION_COOKIE = `${AUTH_COOKIE_PREFIX}session`;
/** The ID token, sent only to the sign-out route: a cookie with a Path cannot be `__Host-`. */
export const ID_TOKEN_COOKIE = "__Secure-tessera-id-token";
export const ID_TOKEN_COOKIE_PATH = "/auth/logout";
/** The freshness hint: present while the access token needs no refresh. */
export const FRESH_COOKIE = `${AUTH_COOKIE_PREFIX}fresh`;

/** The Set-Cookie headers among `headers` (Playwright lists each one separately in `headersArray()`). */
export function setCookies(headers: readonly { name: string; value: string }[]): SetCookie[] {
  return headers.filter((header) => header.name.toLowerCase() === "set-cookie").map(({ value }) => parseSetCookie(value));
}

/** Whether the cookie is being deleted rather than written. */
export const isDeletion = (cookie: SetCookie): boolean =>
  cookie.attributes.get("max-age") === "0" || Date.parse(cookie.attributes.get("expires") ?? "") <= Date.now();

/** What every auth cookie must carry, deletions included (a browser ignores a `__Host-` deletion without them). */
export function expectAuthCookieAttributes(cookie: SetCookie): void {
  const what = `Set-Cookie ${cookie.name}`;
  const idToken = cookie.name === ID_TOKEN_COOKIE;
  if (!idToken) expect(cookie.name, what).toMatch(new RegExp(`^${AUTH_COOKIE_PREFIX}`));
  expect(cookie.attributes.has("secure"), `${what}: Secure`).toBe(true);
  expect(cookie.attributes.has("httponly"), `${what}: HttpOnly`).toBe(true);
  expect(cookie.attributes.get("path"), `${what}: Path`).toBe(idToken ? ID_TOKEN_COOKIE_PATH : "/");
  expect(cookie.attributes.has("domain"), `${what}: Domain`).toBe(false);
  expect(cookie.attributes.get("samesite")?.toLowerCase(), `${what}: SameSite`).toBe("lax");
  expect(Buffer.byteLength(cookie.raw), `${what}: size`).toBeLessThan(4096);
}

/** The browser's session cookie chunks, in order. */
export async function sessionCookies(context: BrowserContext) {
  const cookies = await context.cookies(E2E.web);
  return cookies.filter((cookie) => cookie.name === SESSION_COOKIE || cookie.name.startsWith(`${SESSION_COOKIE}.`)).sort((a, b) => a.name.localeCompare(b.name));
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A request to the web app with the path sent byte for byte. Browsers and Playwright's own client resolve
 * `..`, `%2e%2e` and the like before sending; an attacker's client does not.
 */
export function rawRequest(path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const web = new URL(E2E.web);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: web.hostname, port: web.port, path, method: init.method ?? "GET", headers: init.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

/** The Cookie header the browser sends to the web app. */
export async function cookieHeaderFor(context: BrowserContext): Promise<string> {
  return (await context.cookies(E2E.web)).map(({ name, value }) => `${name}=${value}`).join("; ");
}

/** Everything a server printed so far, as captured by scripts/run-logged.mjs. */
export function serverLog(server: keyof typeof E2E.logs): string {
  return readFileSync(E2E.logs[server], "utf8");
}

/** Adds a note from the dashboard as a user would, once the notes have loaded (the form is live only then). */
export async function addNote(page: Page, text: string): Promise<void> {
  const add = page.getByRole("button", { name: "Add note" });
  await expect(add).toBeEnabled();
  await page.getByLabel("New note").fill(text);
  await add.click();
  await expect(page.getByRole("list", { name: "Notes" }).getByText(text).first()).toBeVisible();
}

/**
 * What would betray an issued token in a log: each token, and a JWT's signature segment alone, so that a token cut
 * short still counts. Strings too short to mean anything are left out.
 */
export function tokenNeedles(issued: Record<string, string[]>): string[] {
  const tokens = Object.values(issued).flat();
  return [...new Set(tokens.flatMap((token) => [token, token.split(".").at(-1)!]).filter((needle) => needle.length >= 16))];
}

/** Fails if `log` holds any of `needles`; the report shows only a prefix, so the test's output spreads nothing. */
export function expectNoTokenIn(log: string, needles: readonly string[], what: string): void {
  const found = needles.filter((needle) => log.includes(needle));
  expect(found.length, `${what} holds ${found.length} token string(s), e.g. ${found[0]?.slice(0, 12)}...`).toBe(0);
}
