import { expect, test, type Response } from "@playwright/test";
import { E2E } from "../playwright.config";
import { addNote, currentSub, latestTokens, signIn, USERS } from "./support";

test("no token reaches the browser: not in cookies it can read, storage, HTML or any response", async ({ page }) => {
  const bodies: { url: string; body: string }[] = [];
  const pending: Promise<void>[] = [];
  page.on("response", (response: Response) => {
    pending.push(
      response
        .text()
        .then((body) => void bodies.push({ url: response.url(), body }))
        .catch(() => undefined), // redirects and aborted requests have no body to read
    );
  });

  await signIn(page, USERS.alice);
  await addNote(page, "leak check");
  await page.goto("/api/me");
  await page.goto("/auth/session");
  await page.goto("/dashboard");
  await expect(page.getByRole("heading", { name: "Your notes" })).toBeVisible();
  const sub = await currentSub(page);
  await Promise.all(pending);

  const tokens = await latestTokens(page.request, sub);
  const secrets = [tokens.access_token, tokens.refresh_token, tokens.id_token].filter((t): t is string => !!t);
  expect(secrets.length).toBe(3);
  // Each JWT's signature alone is enough to tell: it never appears without the token around it.
  const needles = secrets.flatMap((token) => [token, token.split(".").at(-1)!]);

  const visible = await page.evaluate(() => ({
    cookie: document.cookie,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    html: document.documentElement.outerHTML,
  }));
  expect(bodies.length).toBeGreaterThan(5);
  for (const needle of needles) {
    for (const [where, text] of Object.entries(visible)) expect(text, where).not.toContain(needle);
    for (const { url, body } of bodies) expect(body, url).not.toContain(needle);
  }
});

test("the session cookie is HttpOnly, Secure, SameSite=Lax and __Host- scoped", async ({ page }) => {
  await signIn(page, USERS.bob);
  const cookies = await page.context().cookies(E2E.web);
  const session = cookies.filter((cookie) => cookie.name.startsWith("__Host-tessera-session"));
  expect(session.length).toBeGreaterThan(0);
  for (const cookie of session) {
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
    expect(cookie.domain).toBe("localhost");
  }
  expect(await page.evaluate(() => document.cookie)).not.toContain("__Host-tessera-session");
});
