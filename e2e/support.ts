/**
 * Shared steps for the end-to-end suite. They act as a user would (through the IdP's real login
 * page) or as an operator would (the dev IdP's test-only hooks); never by reaching into the app.
 */
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { E2E } from "../playwright.config";

export const USERS = {
  alice: { username: "alice", password: "wonderland", name: "Alice Liddell", email: "alice@example.com" },
  bob: { username: "bob", password: "builder", name: "Bob Builder", email: "bob@example.com" },
} as const;

export type User = (typeof USERS)[keyof typeof USERS];

/** What the app's own fetch helper sends to `/api/*`, and the Origin a browser adds to unsafe methods. */
export const BFF_HEADERS = { "x-csrf": "1", origin: E2E.web } as const;

export async function submitLogin(page: Page, user: { username: string; password: string }): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in from the landing page and waits for the dashboard. */
export async function signIn(page: Page, user: User): Promise<void> {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in" }).click();
  await submitLogin(page, user);
  await expect(page).toHaveURL(`${E2E.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${user.name}` })).toBeVisible();
}

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/** The last token response the IdP issued for `sub`, from the dev IdP's test-only hook. */
export async function latestTokens(request: APIRequestContext, sub: string): Promise<IssuedTokens> {
  const response = await request.get(`${E2E.idp}/__test/tokens?sub=${encodeURIComponent(sub)}`);
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
  const response = await request.get(`${E2E.idp}/__test/stats?sub=${encodeURIComponent(sub)}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as IdpStats;
}

export async function idpHook(request: APIRequestContext, path: string): Promise<void> {
  const response = await request.post(`${E2E.idp}/__test/${path}`);
  expect(response.ok(), `POST /__test/${path}`).toBe(true);
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
