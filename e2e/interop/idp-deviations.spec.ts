/**
 * The IdP the user brings: the deviations from the specifications that real IdPs show, played by the IdP double
 * in front of the real dev IdP. For each, what the user sees, what the IdP sees (how many calls), and what the
 * log says. The client's id and secret hold characters that encoders treat differently, and the double compares
 * Basic credentials as sent, as an IdP that does not percent-decode them.
 */
import { expect, test, type Page } from "@playwright/test";
import { signIn, submitLogin, testHook, USERS } from "../support";
import { fetchData, INTEROP, me, signOut, startStack, untilExpired, type Stack } from "./stack";

test.describe.configure({ mode: "serial" });

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack("deviations", {
    clientId: "interop-bff.v2_*",
    clientSecret: "interop-s3cret_with-dashes.dots*stars",
    method: "client_secret_basic",
    strictBasic: true,
  });
});

test.afterAll(async () => {
  await stack?.stop();
});

test.beforeEach(() => stack.double.reset());

const sessionCookies = async (page: Page) => (await page.context().cookies(INTEROP.web)).filter((cookie) => cookie.name.startsWith("__Host-tessera-session"));

/**
 * Data requests at once, as a dashboard with several widgets sends them: six, as many as a browser sends to one
 * host at a time, so that all of them leave with the same cookie before any answer can change it.
 */
const burst = (page: Page) => fetchData(page, 6);

test("credentials compared as sent: sign-in, silent refresh and revocation at sign-out all authenticate", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  await untilExpired(page);
  await page.goto(`${INTEROP.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
  expect(stack.double.seen.codeExchanges).toEqual([200]);
  expect(stack.double.seen.refreshes).toEqual([200]);

  await signOut(page);
  expect(stack.double.seen.revocations).toEqual([200]);
  expect(stack.double.seen.clientAuthentication).toEqual(["client_secret_basic", "client_secret_basic", "client_secret_basic"]);
  expect(stack.log("web")).not.toMatch(/could not revoke/);
});

test("a refresh refused with an empty 400: the session ends once, with one call to the IdP, and sign-in brings the user back", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  stack.double.deviate({ refresh: "refuse-empty-400" });
  await untilExpired(page);
  const logBefore = stack.log("web").length;

  for (const answer of await burst(page)) {
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: "session_expired", reason: "refresh_refused" });
  }
  expect(stack.double.seen.refreshes).toEqual([400]);
  expect(await sessionCookies(page)).toEqual([]);
  expect(stack.log("web").slice(logBefore)).toContain("session ended: The IdP refused the refresh: the token endpoint answered HTTP 400 without an OAuth error");

  // The IdP's own session still stands, so sign-in is one redirect there and back.
  await page.goto(`${INTEROP.web}/dashboard`);
  await expect(page).toHaveURL(`${INTEROP.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
  expect(stack.double.seen.refreshes).toEqual([400]);
});

test("an IdP failing with 503: a page to try again or sign out, one call per interval, and recovery", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  stack.double.deviate({ refresh: "fail-503" });
  await untilExpired(page);

  for (const answer of await burst(page)) {
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe("5");
  }
  const shown = await page.goto(`${INTEROP.web}/dashboard`);
  expect(shown?.status()).toBe(503);
  await expect(page.getByRole("heading", { name: "Cannot reach the sign-in service" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Try again" })).toBeVisible();
  await expect(page.getByRole("button", { name: "sign out" })).toBeVisible();
  expect(stack.double.seen.refreshes).toEqual([503]);
  expect(await sessionCookies(page)).not.toEqual([]);

  stack.double.deviate({ refresh: "answer" });
  await page.waitForTimeout(5_000);
  await page.getByRole("link", { name: "Try again" }).click();
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
  expect(stack.double.seen.refreshes).toEqual([503, 200]);
});

test("an IdP that does not answer: one request waits the timeout, the rest of the interval does not wait, and sign-out still works", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  stack.double.deviate({ refresh: "hang" });
  await untilExpired(page);

  let started = Date.now();
  expect((await fetchData(page)).map((answer) => answer.status)).toEqual([503]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(INTEROP.idpTimeout * 1000 - 100);
  started = Date.now();
  for (const answer of await burst(page)) expect(answer.status).toBe(503);
  expect(Date.now() - started).toBeLessThan(INTEROP.idpTimeout * 1000);
  expect(stack.double.seen.refreshes).toEqual([0]);

  // The way out the unavailable page offers: sign-out needs no refresh.
  await page.goto(`${INTEROP.web}/dashboard`);
  await page.getByRole("button", { name: "sign out" }).click();
  await expect(page.getByRole("heading", { name: "You are signed out." })).toBeVisible();
  expect(await sessionCookies(page)).toEqual([]);
  stack.double.deviate({ refresh: "answer" });
});

test("an IdP that sends the browser back after logout only with a state: the user lands back here", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  stack.double.deviate({ logoutNeedsState: true });
  await signOut(page);
  expect(stack.double.seen.endSessions).toEqual([{ state: "complete", idTokenHint: true, clientId: "interop-bff.v2_*" }]);
});

test("no ID token on refresh: the session keeps the one from sign-in, and sign-out still hints with it", async ({ page }) => {
  await signIn(page, USERS.alice, INTEROP);
  stack.double.deviate({ noIdTokenOnRefresh: true });
  await untilExpired(page);
  await page.goto(`${INTEROP.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
  expect(stack.double.seen.refreshes).toEqual([200]);
  await signOut(page);
  expect(stack.double.seen.endSessions).toEqual([{ state: "complete", idTokenHint: true, clientId: "interop-bff.v2_*" }]);
});

test("tokens too large for the cookie on refresh: the session ends with a notice that says why, sign-in again says so too, their grants are revoked, and the spent refresh token is never sent again", async ({ page, request }) => {
  await signIn(page, USERS.bob, INTEROP);
  const { sub } = await me(page);
  const copied = await page.context().cookies(INTEROP.web);
  // Groups or roles added at the IdP since sign-in: every token it issues to the user from now on is large.
  expect((await testHook(request, "POST", INTEROP.idp, `big-claims?sub=${encodeURIComponent(sub)}&bytes=12000`)).status()).toBe(204);
  try {
    // The open dashboard asks again when the token lapses: its refresh brings tokens the cookie cannot hold.
    await untilExpired(page, { onDashboard: true });
    await expect(page.getByRole("main").getByRole("alert").first()).toContainText("Your session has ended. The sign-in service now sends more about your account");
    expect(await sessionCookies(page)).toEqual([]);
    expect(stack.double.seen.refreshes).toEqual([200]);
    // The grant those tokens came with is revoked: nobody holds it.
    expect(stack.double.seen.revocations).toEqual([200]);
    expect(stack.log("web")).toContain("session ended: the refreshed tokens do not fit the session cookie");

    // Signing in again cannot help while the IdP sends such tokens, and the page says why.
    await page.getByRole("main").getByRole("link", { name: "Sign in again" }).first().click();
    await expect(page).toHaveURL(`${INTEROP.web}/auth/error?error=SessionTooLarge`);
    await expect(page.getByRole("main").getByRole("alert")).toContainText("more about your account");
    expect(await sessionCookies(page)).toEqual([]);
    expect(stack.double.seen.revocations).toEqual([200, 200]);

    // A copy of the old cookie, replayed: the grace cache answers it, and the IdP hears nothing more.
    await page.context().addCookies(copied.filter((cookie) => cookie.name.startsWith("__Host-tessera-session")));
    const [replay] = await fetchData(page);
    expect(replay).toMatchObject({ status: 401, body: { error: "session_expired", reason: "session_too_large" } });
    expect(stack.double.seen.refreshes).toEqual([200]);
    const stats = (await (await testHook(request, "GET", INTEROP.idp, `stats?sub=${encodeURIComponent(sub)}`)).json()) as { refreshFailures: number };
    expect(stats.refreshFailures).toBe(0);
  } finally {
    await testHook(request, "POST", INTEROP.idp, `big-claims?sub=${encodeURIComponent(sub)}&bytes=0`);
  }
});

test("a sign-in the IdP refuses: the generic error page, and a log line with the endpoint, the status and the IdP's error", async ({ page }) => {
  stack.double.deviate({ codeExchange: "unauthorized_client" });
  const logBefore = stack.log("web").length;
  await page.goto(`${INTEROP.web}/`);
  await page.getByRole("link", { name: "Sign in" }).click();
  await submitLogin(page, USERS.alice, INTEROP);
  await expect(page).toHaveURL(new RegExp(`^${INTEROP.web}/auth/error`));
  await expect(page.getByRole("heading", { name: "Sign-in problem" })).toBeVisible();
  const logged = stack.log("web").slice(logBefore);
  expect(logged).toContain(`sign-in failed: ${INTEROP.idp}/token answered HTTP 400, error unauthorized_client`);
  expect(logged).not.toContain("the client may not use this grant");
});
