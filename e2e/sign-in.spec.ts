import { expect, test } from "@playwright/test";
import { E2E } from "../playwright.config";
import { BFF_HEADERS, signIn, submitLogin, USERS } from "./support";

test("the landing page offers sign-in", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
});

test("signing in through the IdP lands on the dashboard", async ({ page }) => {
  await signIn(page, USERS.alice);
  await expect(page.getByTestId("signed-in-as")).toHaveText(`Signed in as ${USERS.alice.email}`);
  await expect(page.getByRole("heading", { name: "Your notes" })).toBeVisible();
});

test("the dashboard without a session goes straight to the IdP and comes back", async ({ page }) => {
  const visited: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  // No page of the app is rendered on the way: the only stop before the IdP is the original request.
  expect(visited.filter((url) => url.startsWith(E2E.web))).toEqual([]);

  await submitLogin(page, USERS.bob);
  await expect(page).toHaveURL(`${E2E.web}/dashboard`);
  await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
});

test("a deep link survives the trip through sign-in", async ({ page }) => {
  await page.goto("/dashboard?view=all");
  await submitLogin(page, USERS.alice);
  await expect(page).toHaveURL(`${E2E.web}/dashboard?view=all`);
});

test("a wrong password shows a generic error at the IdP", async ({ page }) => {
  await page.goto("/dashboard");
  await submitLogin(page, { username: "alice", password: "not-her-password" });
  await expect(page.getByText("Invalid username or password.")).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));

  // An unknown user gets the very same answer: the page does not reveal which usernames exist.
  await submitLogin(page, { username: "mallory", password: "whatever" });
  await expect(page.getByText("Invalid username or password.")).toBeVisible();
});

test("/api/me is 401 JSON signed out and the user's public claims signed in", async ({ page }) => {
  const signedOut = await page.request.get("/api/me", { headers: BFF_HEADERS });
  expect(signedOut.status()).toBe(401);
  expect(await signedOut.json()).toMatchObject({ error: "unauthenticated" });

  await signIn(page, USERS.alice);
  const signedIn = await page.request.get("/api/me", { headers: BFF_HEADERS });
  expect(signedIn.status()).toBe(200);
  expect(signedIn.headers()["cache-control"]).toBe("no-store");
  const me = (await signedIn.json()) as Record<string, unknown>;
  expect(Object.keys(me).sort()).toEqual(["accessTokenExpiresAt", "email", "name", "sessionExpiresAt", "sub"]);
  expect(me).toMatchObject({ name: USERS.alice.name, email: USERS.alice.email });
  expect(Date.parse(String(me.accessTokenExpiresAt))).toBeGreaterThan(Date.now());
  expect(Date.parse(String(me.sessionExpiresAt))).toBeGreaterThan(Date.parse(String(me.accessTokenExpiresAt)) - 1);
});

test("the BFF's data routes refuse a request without the anti-forgery header", async ({ page }) => {
  await signIn(page, USERS.alice);
  const response = await page.request.get("/api/notes");
  expect(response.status()).toBe(403);
  expect(await response.json()).toMatchObject({ error: "missing_csrf_header" });
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, USERS.alice);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${E2E.web}/signed-out?state=complete`);
  await expect(page.getByRole("heading", { name: "You are signed out." })).toBeVisible();

  const cookies = await page.context().cookies(E2E.web);
  expect(cookies.filter((cookie) => cookie.name.startsWith("__Host-tessera-session"))).toEqual([]);
  expect((await page.request.get("/api/me", { headers: BFF_HEADERS })).status()).toBe(401);

  // The IdP's session ended too: the next visit asks for the password again.
  await page.goto("/dashboard");
  await expect(page).toHaveURL(new RegExp(`^${E2E.idp}/`));
  await expect(page.getByLabel("Password")).toBeVisible();
});
