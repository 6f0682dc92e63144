/**
 * The session cookie's size budget, against an IdP that puts large claims into its tokens: the dev IdP's
 * big-claims hook pads every ID token and access token it issues to a subject. Isolated, and Bob only: while he
 * is padded, every token he gets is large, so no other test may sign him in meanwhile.
 */
import { maxHeaderSize } from "node:http";
import { expect, test, type Page, type Response } from "@playwright/test";
import { MAX_SEALED_LENGTH } from "../../lib/session/seal";
import { E2E } from "../../playwright.config";
import {
  currentSub,
  expectAuthCookieAttributes,
  ID_TOKEN_COOKIE,
  idpHook,
  isDeletion,
  serverLog,
  SESSION_COOKIE,
  sessionCookies,
  sessionTiming,
  setCookies,
  signIn,
  USERS,
  waitUntil,
} from "../support";

test.describe.configure({ mode: "serial" });

let padded: string | undefined;

test.afterEach(async ({ request }) => {
  if (padded) await idpHook(request, `big-claims?sub=${encodeURIComponent(padded)}&bytes=0`);
  padded = undefined;
});

/**
 * Signs Bob in with every token padded by `bytes`: first with his password, to learn his subject, then again
 * without a session cookie, which the IdP completes without asking. Resolves to the OIDC callback's response.
 */
async function signInPadded(page: Page, bytes: number): Promise<Response> {
  await signIn(page, USERS.bob);
  padded = await currentSub(page);
  await idpHook(page.request, `big-claims?sub=${encodeURIComponent(padded)}&bytes=${bytes}`);
  await page.context().clearCookies({ name: /^__Host-tessera-session/ });
  const callback = page.waitForResponse((response) => response.url().startsWith(`${E2E.web}/auth/callback/oidc?`));
  await page.goto("/auth/login?returnTo=/dashboard");
  return callback;
}

/** Loads the dashboard, fails unless it fully works, and checks what the browser's request for it carried. */
async function expectWorkingDashboard(page: Page): Promise<void> {
  const response = await page.goto("/dashboard");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
  await expect(page.getByTestId("api-identity")).toHaveText(/accepts your access token/);
  await expect(page.getByTestId("no-notes").or(page.getByRole("list", { name: "Notes" }))).toBeVisible();

  // Sizes only, from the request itself: the cookie jar may already hold a refreshed session.
  const sent = await response!.request().allHeaders();
  const sessionChunks = (sent.cookie ?? "").split("; ").filter((pair) => pair.startsWith(SESSION_COOKIE));
  expect(sessionChunks.length).toBeGreaterThan(1);
  const sealedLength = sessionChunks.reduce((length, pair) => length + pair.length - pair.indexOf("=") - 1, 0);
  expect(sealedLength).toBeLessThanOrEqual(MAX_SEALED_LENGTH);
  // Node.js refuses a request whose headers pass this in all: the budget must leave room for the rest.
  const headerBytes = Object.entries(sent).reduce((total, [name, value]) => total + name.length + value.length + 4, 0);
  expect(headerBytes).toBeLessThan(maxHeaderSize - 2048);
}

test("large tokens: the session is split into chunks under 4 KB each, and every request stays within budget", async ({ page }) => {
  const callback = await signInPadded(page, 4500);
  const written = setCookies(await callback.headersArray()).filter((cookie) => cookie.name.startsWith(SESSION_COOKIE) && !isDeletion(cookie));
  expect(written.map((cookie) => cookie.name)).toEqual([0, 1, 2].map((i) => `${SESSION_COOKIE}.${i}`));
  for (const cookie of written) expectAuthCookieAttributes(cookie);
  await expectWorkingDashboard(page);

  // A refresh rewrites the large session through the middleware, and the app keeps working.
  const { accessTokenExpiresAt } = await sessionTiming(page);
  await page.goto("/");
  await waitUntil(page, accessTokenExpiresAt);
  await expectWorkingDashboard(page);
  expect(await sessionCookies(page.context())).toHaveLength(3);
});

test("an ID token too large for its own cookie is left out: the app works, and the browser holds none", async ({ page }) => {
  const logBefore = serverLog("web").length;
  const callback = await signInPadded(page, 4500);
  expect(setCookies(await callback.headersArray()).filter((cookie) => cookie.name === ID_TOKEN_COOKIE).every(isDeletion)).toBe(true);
  await expectWorkingDashboard(page);
  expect(serverLog("web").slice(logBefore)).toContain("the ID token does not fit its cookie");
  expect((await page.context().cookies(`${E2E.web}/auth/logout`)).map((cookie) => cookie.name)).not.toContain(ID_TOKEN_COOKIE);
});

test("tokens over the budget even without the ID token: sign-in fails cleanly on the error page, and the log says why", async ({ page }) => {
  const statuses: number[] = [];
  page.on("response", (response) => statuses.push(response.status()));
  const logBefore = serverLog("web").length;
  const callback = await signInPadded(page, 7000);
  expect(callback.status()).toBeLessThan(400);
  await expect(page).toHaveURL(new RegExp(`^${E2E.web}/auth/error`));
  await expect(page.getByRole("heading", { name: "Sign-in problem" })).toBeVisible();
  expect(await page.content()).not.toMatch(/\bat .+:\d+:\d+/);
  expect(statuses.filter((status) => status >= 500)).toEqual([]);
  expect(await sessionCookies(page.context())).toEqual([]);
  await expect.poll(() => serverLog("web").slice(logBefore)).toContain("session_too_large");
});
