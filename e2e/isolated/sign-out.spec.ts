/**
 * Sign-out ends the session everywhere: here (a copy of the cookie included), at the IdP and at the API;
 * and a session ended at the IdP ends here too (back-channel logout). As bob: the refresh spec has alice.
 * Some tests take the IdP or the API offline; every test brings both back.
 *
 * A replayed logout token is refused in lib/server/sign-out/backchannel-logout.test.ts: the IdP hands its logout tokens to
 * the web app only, so a test here never holds one to replay.
 */
import { expect, test, type APIRequestContext, type Browser, type Cookie, type Page } from "@playwright/test";
import { decodeJwt } from "jose";
import { E2E } from "../../playwright.config";
import { apiHook, BFF_HEADERS, currentSub, idpHook, latestTokens, serverLog, sessionCookies, signIn, submitLogin, testHook, USERS, type IssuedTokens } from "../support";

test.describe.configure({ mode: "serial" });

test.afterEach(async ({ request }) => {
  await idpHook(request, "outage?down=0");
  await apiHook(request, "outage?down=0");
});

/** Signs bob in; the tokens the IdP issued him, from its test hook (never from the browser). */
async function signInBob(page: Page): Promise<IssuedTokens> {
  await signIn(page, USERS.bob);
  return latestTokens(page.request, await currentSub(page));
}

async function signOut(page: Page, landing: string): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${E2E.web}${landing}`);
  await expect(page.getByRole("heading", { name: "You are signed out." })).toBeVisible();
}

/** The signed-out page's notice (Next.js's own route announcer is an empty alert outside `main`). */
const notice = (page: Page) => page.getByRole("main").getByRole("alert");

const me = async (page: Page) => (await page.request.get("/api/me", { headers: BFF_HEADERS })).status();

/** What the API makes of an access token: 200, or 401 once it is expired or revoked. */
async function apiStatus(request: APIRequestContext, accessToken: string): Promise<number> {
  return (await request.get(`${E2E.api}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status();
}

/** A 401 proves revocation only while the token has not simply expired. */
function expectUnexpired(accessToken: string): void {
  expect(decodeJwt(accessToken).exp! * 1000, "the access token expired before the check; the test proved nothing").toBeGreaterThan(Date.now());
}

/** A refresh grant as the web app would make it, with the captured refresh token. */
async function refreshWith(request: APIRequestContext, refreshToken: string) {
  const discovery = (await (await request.get(`${E2E.idp}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const basic = Buffer.from(`${encodeURIComponent(E2E.clientId)}:${encodeURIComponent(E2E.clientSecret)}`).toString("base64");
  const response = await request.post(discovery.token_endpoint, {
    headers: { authorization: `Basic ${basic}` },
    form: { grant_type: "refresh_token", refresh_token: refreshToken },
  });
  return { status: response.status(), body: (await response.json()) as { error?: string } };
}

/** A fresh browser that holds nothing but copies of `cookies`. */
async function browserWith(browser: Browser, cookies: Cookie[]): Promise<Page> {
  const context = await browser.newContext();
  await context.addCookies(cookies);
  return context.newPage();
}

async function expectSignedOutHere(page: Page): Promise<void> {
  expect(await sessionCookies(page.context())).toEqual([]);
  expect(await me(page)).toBe(401);
}

test("signing out clears every cookie chunk, ends the IdP's session and lands on the signed-out page", async ({ page }) => {
  await signInBob(page);
  await signOut(page, "/signed-out?state=complete");
  await expect(notice(page)).toHaveCount(0);
  await expectSignedOutHere(page);

  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await expect(page.getByLabel("Password")).toBeVisible();
});

test("a copy of the session cookies taken before sign-out is refused afterwards", async ({ page, browser }) => {
  await signInBob(page);
  const copy = await sessionCookies(page.context());
  expect(copy.length).toBeGreaterThan(0);
  await signOut(page, "/signed-out?state=complete");

  const thief = await browserWith(browser, copy);
  expect(await me(thief)).toBe(401);
  expect((await thief.request.get("/api/notes", { headers: BFF_HEADERS })).status()).toBe(401);
  await thief.goto("/dashboard");
  await expect(thief).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await expect(thief.getByLabel("Password")).toBeVisible();
  await thief.context().close();
});

test("after sign-out the API refuses the access token and the IdP the refresh token held before", async ({ page, request }) => {
  const tokens = await signInBob(page);
  expect(await apiStatus(request, tokens.access_token)).toBe(200);
  await signOut(page, "/signed-out?state=complete");

  expect(await apiStatus(request, tokens.access_token)).toBe(401);
  expectUnexpired(tokens.access_token);
  const refresh = await refreshWith(request, tokens.refresh_token!);
  expect(refresh.status).toBe(400);
  expect(refresh.body.error).toBe("invalid_grant");
});

test("a session ended at the IdP is signed out here at the next request, and its access token dies at the API", async ({ page, request }) => {
  const tokens = await signInBob(page);
  expect(await me(page)).toBe(200);

  const ended = await testHook(request, "POST", E2E.idp, `end-session?sub=${encodeURIComponent(await currentSub(page))}`);
  expect(ended.status()).toBe(200);
  const delivery = (await ended.json()) as { sessions: number; delivered: number; failed: number };
  expect(delivery.delivered).toBeGreaterThanOrEqual(1);
  expect(delivery.failed).toBe(0);

  expect(await me(page)).toBe(401);
  expect(await apiStatus(request, tokens.access_token)).toBe(401);
  expectUnexpired(tokens.access_token);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await expect(page.getByLabel("Password")).toBeVisible();
});

test("an IdP that ends every session of the user, naming only the user, ends them here too; a sign-in after it holds", async ({ page, request }) => {
  const tokens = await signInBob(page);

  const ended = await testHook(request, "POST", E2E.idp, `end-session?sub=${encodeURIComponent(await currentSub(page))}&subject-only=1`);
  const answeredAt = Date.now();
  expect(ended.status()).toBe(200);
  const delivery = (await ended.json()) as { delivered: number; failed: number };
  expect(delivery.delivered).toBeGreaterThanOrEqual(1);
  expect(delivery.failed).toBe(0);

  // The token is current, so the middleware reads nothing: the page's own read of the session is what refuses it.
  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  expect(await me(page)).toBe(401);
  expect(await apiStatus(request, tokens.access_token)).toBe(401);

  // The logout ends the sessions that started in its second or before; from the next second on, a sign-in is new.
  await page.waitForTimeout(Math.max(0, (Math.floor(answeredAt / 1000) + 1) * 1000 - Date.now()));
  await submitLogin(page, USERS.bob);
  await expect(page).toHaveURL(`${E2E.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
  expect(await me(page)).toBe(200);
});

test("an invalid logout token gets 400 and changes nothing", async ({ page, request }) => {
  const tokens = await signInBob(page);
  const backchannel = `${E2E.web}/auth/backchannel-logout`;

  // The user's own ID token is signed by the IdP, names the session and is meant for this client: still no logout token.
  for (const logoutToken of ["not-a-jwt", tokens.id_token!]) {
    const response = await request.post(backchannel, { form: { logout_token: logoutToken } });
    expect(response.status()).toBe(400);
    expect(response.headers()["cache-control"]).toBe("no-store");
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  }
  const notAForm = await request.post(backchannel, { data: { logout_token: tokens.id_token } });
  expect(notAForm.status()).toBe(400);

  expect(await me(page)).toBe(200);
  expect(await apiStatus(request, tokens.access_token)).toBe(200);
});

// A real cross-site form is in security.spec.ts; here, that a refused sign-out revokes nothing anywhere either.
test("a sign-out request from a foreign origin, without proof of origin, or by GET changes nothing", async ({ page, request }) => {
  const tokens = await signInBob(page);

  const foreign = await page.request.post("/auth/logout", { headers: { origin: "https://attacker.example" }, maxRedirects: 0 });
  expect(foreign.status()).toBe(403);
  const unproven = await page.request.post("/auth/logout", { maxRedirects: 0 });
  expect(unproven.status()).toBe(403);
  expect((await page.request.get("/auth/logout", { maxRedirects: 0 })).status()).toBe(405);

  expect((await sessionCookies(page.context())).length).toBeGreaterThan(0);
  expect(await me(page)).toBe(200);
  expect(await apiStatus(request, tokens.access_token)).toBe(200);
  await page.goto("/dashboard");
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
});

test("with the IdP unreachable, sign-out still signs out here, refuses a copied cookie and says what it could not do", async ({ page, browser, request }) => {
  const tokens = await signInBob(page);
  const copy = await sessionCookies(page.context());
  await idpHook(request, "outage?down=1");

  await signOut(page, "/signed-out?state=idp");
  await expect(notice(page)).toContainText("The sign-in service could not be reached");
  await expectSignedOutHere(page);

  // The refresh token could not be revoked: only this app's list of ended sessions stops the copy.
  const thief = await browserWith(browser, copy);
  expect(await me(thief)).toBe(401);
  await thief.context().close();
  expect(await apiStatus(request, tokens.access_token)).toBe(401);
  expectUnexpired(tokens.access_token);
  await expect.poll(() => serverLog("web")).toMatch(/\[logout\] could not revoke the refresh token at the IdP: TokenRevocationError \[idp_unreachable\]/);
});

test("with the API unreachable, sign-out still signs out here and at the IdP, says what it could not do, and logs it", async ({ page, browser, request }) => {
  await signInBob(page);
  const copy = await sessionCookies(page.context());
  await apiHook(request, "outage?down=1");

  await signOut(page, "/signed-out?state=api");
  await expect(notice(page)).toContainText("The notes service could not be reached");
  await expectSignedOutHere(page);
  const thief = await browserWith(browser, copy);
  expect(await me(thief)).toBe(401);
  await thief.context().close();
  await expect
    .poll(() => serverLog("web"))
    .toMatch(/\[logout\] could not revoke the access token and its session at the API; they stay valid until they expire: ApiRevocationError \[api_unreachable\]/);

  // The IdP's session ended all the same.
  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await expect(page.getByLabel("Password")).toBeVisible();
});
