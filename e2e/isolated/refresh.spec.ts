/**
 * Silent refresh against the real IdP, with access tokens of a few seconds (E2E.accessTokenTtl).
 * The middleware refreshes a quarter of the lifetime before expiry (2 s for 8 s tokens).
 */
import { expect, test, type Page } from "@playwright/test";
import { E2E } from "../../playwright.config";
import { AUTH_COOKIE_PREFIX, BFF_HEADERS, FRESH_COOKIE, idpHook, idpStats, sessionTiming, signIn, USERS, waitUntil } from "../support";

test.describe.configure({ mode: "serial" });

const DUE_BEFORE_EXPIRY_MS = (E2E.accessTokenTtl / 4) * 1000;

/** Leave the dashboard, whose countdown would otherwise make requests of its own while the test waits. */
async function idle(page: Page): Promise<void> {
  await page.goto("/signed-out");
}

test.afterEach(async ({ request }) => {
  await idpHook(request, "outage?down=0");
});

test("stays signed in across several expiries, with one refresh for each", async ({ page }) => {
  await signIn(page, USERS.alice);
  const { sub } = await sessionTiming(page);
  const before = await idpStats(page.request, sub);

  for (let round = 1; round <= 3; round += 1) {
    const { accessTokenExpiresAt } = await sessionTiming(page);
    await idle(page);
    await waitUntil(page, accessTokenExpiresAt + 300);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(`${E2E.web}/dashboard`);
    await expect(page.getByTestId("api-identity")).toHaveText(/accepts your access token/);
    const notes = await page.request.get("/api/notes", { headers: BFF_HEADERS });
    expect(notes.status(), `round ${round}`).toBe(200);
  }

  const after = await idpStats(page.request, sub);
  expect(after.refreshGrants - before.refreshGrants).toBe(3);
  expect(after.refreshFailures - before.refreshFailures).toBe(0);
});

test("20 parallel requests at the moment of expiry all succeed with exactly one refresh", async ({ page }) => {
  await signIn(page, USERS.alice);
  const { sub, accessTokenExpiresAt } = await sessionTiming(page);
  await idle(page);
  const before = await idpStats(page.request, sub);

  await waitUntil(page, accessTokenExpiresAt);
  const responses = await Promise.all(Array.from({ length: 20 }, () => page.request.get("/api/notes", { headers: BFF_HEADERS })));
  expect(responses.map((response) => response.status())).toEqual(Array(20).fill(200));

  const after = await idpStats(page.request, sub);
  expect(after.refreshGrants - before.refreshGrants).toBe(1);
  expect(after.refreshFailures - before.refreshFailures).toBe(0);

  // The browser stored the rotated session: the next request needs no refresh and still works.
  const next = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(next.status()).toBe(200);
  expect((await idpStats(page.request, sub)).refreshGrants).toBe(after.refreshGrants);
});

test("a page rendered at the moment of expiry uses the new token, refreshed once", async ({ page }) => {
  await signIn(page, USERS.alice);
  const { sub, accessTokenExpiresAt } = await sessionTiming(page);
  await idle(page);
  const before = await idpStats(page.request, sub);

  await waitUntil(page, accessTokenExpiresAt - DUE_BEFORE_EXPIRY_MS + 200);
  await page.goto("/dashboard");
  const rendered = page.getByTestId("api-identity");
  await expect(rendered).toHaveText(/accepts your access token/);
  // The API verified a token that expires later than the old one: the Server Component used the new token.
  const verifiedExp = Number(await rendered.getAttribute("data-token-exp")) * 1000;
  expect(verifiedExp).toBeGreaterThan(accessTokenExpiresAt);

  await idle(page);
  const after = await idpStats(page.request, sub);
  expect(after.refreshGrants - before.refreshGrants).toBe(1);
  expect(after.refreshFailures - before.refreshFailures).toBe(0);
});

test("the browser holds the freshness hint until the token is due, and gets a new one with the refresh", async ({ page, context }) => {
  await signIn(page, USERS.alice);
  const { accessTokenExpiresAt } = await sessionTiming(page);
  const hint = async () => (await context.cookies()).find((cookie) => cookie.name === FRESH_COOKIE);
  const first = await hint();
  expect(first).toMatchObject({ value: "1", httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
  // It lapses when a refresh is due, never later.
  expect(first!.expires * 1000).toBeLessThanOrEqual(accessTokenExpiresAt - DUE_BEFORE_EXPIRY_MS + 1000);
  await idle(page);

  // Gone by the time the refresh is due.
  await waitUntil(page, accessTokenExpiresAt - DUE_BEFORE_EXPIRY_MS + 200);
  expect(await hint()).toBeUndefined();
  const notes = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(notes.status()).toBe(200);
  const second = await hint();
  expect(second!.expires).toBeGreaterThan(first!.expires);
});

test("a hint that outlived its token: the data route refreshes nothing itself, asks for a retry, and the retry is refreshed once", async ({ page, context }) => {
  await signIn(page, USERS.alice);
  const { sub, accessTokenExpiresAt } = await sessionTiming(page);
  await idle(page);
  const before = await idpStats(page.request, sub);

  await waitUntil(page, accessTokenExpiresAt + 300);
  // As a browser whose clock was set back, or a hand-made cookie, would send it: shaped like the session cookie.
  const session = (await context.cookies()).find((cookie) => cookie.name.startsWith(`${AUTH_COOKIE_PREFIX}session`))!;
  await context.addCookies([{ ...session, name: FRESH_COOKIE, value: "1", expires: Date.now() / 1000 + 600 }]);
  const stale = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(stale.status()).toBe(401);
  expect(await stale.json()).toMatchObject({ error: "refresh_required" });
  expect((await idpStats(page.request, sub)).refreshGrants).toBe(before.refreshGrants);
  expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain(FRESH_COOKIE);

  const retried = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(retried.status()).toBe(200);
  const after = await idpStats(page.request, sub);
  expect(after.refreshGrants - before.refreshGrants).toBe(1);
  expect(after.refreshFailures - before.refreshFailures).toBe(0);
});

test("a grant revoked at the IdP ends the session: navigations go to sign-in, fetches get 401 JSON", async ({ browser }) => {
  const navigating = await (await browser.newContext()).newPage();
  const fetching = await (await browser.newContext()).newPage();
  await signIn(navigating, USERS.alice);
  await signIn(fetching, USERS.alice);
  await idle(navigating);
  await idle(fetching);
  const { sub, accessTokenExpiresAt } = await sessionTiming(fetching);

  await idpHook(fetching.request, `revoke?sub=${encodeURIComponent(sub)}`);
  await waitUntil(fetching, accessTokenExpiresAt);

  const response = await fetching.request.get("/api/notes", { headers: BFF_HEADERS, maxRedirects: 0 });
  expect(response.status()).toBe(401);
  expect(await response.json()).toEqual({ error: "session_expired", reason: "invalid_grant" });
  const cleared = (await fetching.context().cookies(E2E.web)).filter((cookie) => cookie.name.startsWith("__Host-tessera-session"));
  expect(cleared).toEqual([]);
  // No loop: once ended, the session stays ended and answers 401 without asking the IdP again.
  expect((await fetching.request.get("/api/notes", { headers: BFF_HEADERS })).status()).toBe(401);

  const toIdp = navigating.waitForRequest((request) => request.url().startsWith(`${E2E.idp}/auth`));
  await navigating.goto("/dashboard");
  const authorization = new URL((await toIdp).url());
  expect(authorization.searchParams.get("client_id")).toBe("tessera-bff");

  await navigating.context().close();
  await fetching.context().close();
});

test("with the IdP unreachable the app serves until the token expires, then answers 503, and recovers once the retry interval has passed", async ({ page }) => {
  await signIn(page, USERS.bob);
  const { accessTokenExpiresAt } = await sessionTiming(page);
  await idle(page);
  await idpHook(page.request, "outage?down=1");

  // Refresh is due, the IdP is gone, the token is still valid: keep serving with it.
  await waitUntil(page, accessTokenExpiresAt - DUE_BEFORE_EXPIRY_MS + 200);
  expect((await page.request.get("/api/notes", { headers: BFF_HEADERS })).status()).toBe(200);

  // Expired and the IdP still gone: a clear 503, and the session is kept.
  await waitUntil(page, accessTokenExpiresAt + 200);
  const unavailable = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(unavailable.status()).toBe(503);
  expect(await unavailable.json()).toMatchObject({ error: "idp_unavailable" });
  const navigation = await page.goto("/dashboard");
  expect(navigation?.status()).toBe(503);
  await expect(page.getByRole("heading", { name: "Cannot reach the sign-in service" })).toBeVisible();

  // The failure stands for the interval the answer announced, for every request of the session, then the next
  // request asks the IdP again.
  const retryAfter = Number(unavailable.headers()["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  await idpHook(page.request, "outage?down=0");
  await page.waitForTimeout(retryAfter * 1000);
  expect((await page.request.get("/api/notes", { headers: BFF_HEADERS })).status()).toBe(200);
  await page.goto("/dashboard");
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
});
