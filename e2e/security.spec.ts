/**
 * The BFF's defences that need a browser, or the real processes, to prove: cookie attributes, anti-forgery on
 * the data routes, the proxy's path rules, open redirects, the Content Security Policy, unreadable session
 * cookies and the sign-in error page. The README's security section maps each defence to its test.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { sealData } from "iron-session";
import { decodeJwt } from "jose";
import { expect, test, type BrowserContext, type Page, type Response } from "@playwright/test";
import { E2E } from "../playwright.config";
import {
  AUTH_COOKIE_PREFIX,
  BFF_HEADERS,
  cookieHeaderFor,
  expectAuthCookieAttributes,
  FRESH_COOKIE,
  ID_TOKEN_COOKIE,
  isDeletion,
  rawRequest,
  serverLog,
  SESSION_COOKIE,
  sessionCookies,
  sessionTiming,
  setCookies,
  signIn,
  submitLogin,
  unique,
  USERS,
  waitUntil,
} from "./support";

/** Where sign-in returns to: Auth.js writes it again only when it changes, so it has no Max-Age of its own. */
const CALLBACK_URL_COOKIE = `${AUTH_COOKIE_PREFIX}callback-url`;
/** One sign-in's cookies, which its callback deletes. */
const TRANSACTION_COOKIES = [...["pkce", "state", "nonce"].map((name) => `${AUTH_COOKIE_PREFIX}${name}`), CALLBACK_URL_COOKIE];
/** Auth.js's CSRF cookie, for its own forms, which are not exposed: the callback deletes it instead of writing it. */
const AUTH_JS_CSRF_COOKIE = `${AUTH_COOKIE_PREFIX}csrf`;
/** Every cookie named in the answers of sign-in and its callback. */
const SIGN_IN_COOKIES = [...TRANSACTION_COOKIES, AUTH_JS_CSRF_COOKIE, SESSION_COOKIE, ID_TOKEN_COOKIE];

test.describe("auth cookies", () => {
  test("sign-in's transaction cookies and the session cookie are __Host-, Secure, HttpOnly, Path=/, Lax; their responses no-store", async ({ page }) => {
    const login = await page.request.get("/auth/login?returnTo=/dashboard", { maxRedirects: 0 });
    expect(login.status()).toBe(303);
    expect(login.headers()["cache-control"]).toBe("no-store");
    const started = setCookies(login.headersArray());
    expect(started.map((cookie) => cookie.name)).toEqual(expect.arrayContaining(TRANSACTION_COOKIES));
    for (const cookie of started) expectAuthCookieAttributes(cookie);
    // An abandoned sign-in's cookies lapse; callback-url must still be there for a sign-in restarted for the same page.
    for (const cookie of started.filter(({ name }) => name !== CALLBACK_URL_COOKIE)) {
      expect(cookie.attributes.get("max-age"), cookie.name).toBe("900");
    }

    const callback = page.waitForResponse((response) => response.url().startsWith(`${E2E.web}/auth/callback/oidc?`));
    await page.goto("/auth/login?returnTo=/dashboard");
    await submitLogin(page, USERS.alice);
    const finished = await callback;
    expect(finished.status()).toBeLessThan(400);
    const headers = await finished.headersArray();
    expect(headers.find((header) => header.name.toLowerCase() === "cache-control")?.value).toContain("no-store");
    const written = setCookies(headers);
    expect(written.filter((cookie) => !isDeletion(cookie)).map((cookie) => cookie.name)).toContain(SESSION_COOKIE);
    // The transaction is over: its cookies are deleted, with the attributes a __Host- deletion needs.
    expect(written.filter(isDeletion).map((cookie) => cookie.name)).toEqual(expect.arrayContaining([...TRANSACTION_COOKIES, AUTH_JS_CSRF_COOKIE]));
    for (const cookie of written) expectAuthCookieAttributes(cookie);
    expect(new Set([...started, ...written].map((cookie) => cookie.name))).toEqual(new Set(SIGN_IN_COOKIES));
    await expect(page).toHaveURL(`${E2E.web}/dashboard`);
    // What every later request carries: the session and its freshness hint (from the dashboard's answer), nothing
    // of the sign-in.
    const held = (await page.context().cookies(E2E.web)).map((cookie) => cookie.name).filter((name) => name.startsWith(AUTH_COOKIE_PREFIX));
    expect(held.sort()).toEqual([FRESH_COOKIE, SESSION_COOKIE].sort());
  });

  test("the ID token travels only to sign-out, where it hints the IdP, and only for its own session: one planted from another session gives no hint", async ({ browser, page }) => {
    await signIn(page, USERS.alice);
    const { sub } = await sessionTiming(page);
    const own = (await page.context().cookies(`${E2E.web}/auth/logout`)).find((cookie) => cookie.name === ID_TOKEN_COOKIE);
    expect(own).toMatchObject({ path: "/auth/logout", httpOnly: true, secure: true, sameSite: "Lax" });
    expect((await page.context().cookies(E2E.web)).map((cookie) => cookie.name)).not.toContain(ID_TOKEN_COOKIE);

    const signOut = async (context: BrowserContext) => {
      const answer = await context.request.post(`${E2E.web}/auth/logout`, { headers: { origin: E2E.web }, maxRedirects: 0 });
      expect(answer.status()).toBe(303);
      const cleared = setCookies(answer.headersArray()).find((cookie) => cookie.name === ID_TOKEN_COOKIE);
      expect(cleared && isDeletion(cleared)).toBe(true);
      return new URL(answer.headers()["location"]!);
    };
    const hint = (await signOut(page.context())).searchParams.get("id_token_hint");
    expect(hint && decodeJwt(hint).sub).toBe(sub);

    // Bob's sealed ID token, planted in the browser of another session of Alice's, as a sibling subdomain could.
    const [bob, alice] = [await browser.newContext(), await browser.newContext()];
    await signIn(await bob.newPage(), USERS.bob);
    await signIn(await alice.newPage(), USERS.alice);
    const bobs = (await bob.cookies(`${E2E.web}/auth/logout`)).find((cookie) => cookie.name === ID_TOKEN_COOKIE)!;
    await alice.addCookies([bobs]);
    const planted = await signOut(alice);
    expect(planted.searchParams.has("id_token_hint")).toBe(false);
    expect(planted.searchParams.get("client_id")).toBe(E2E.clientId);
    await Promise.all([bob.close(), alice.close()]);
  });

  test("a silent refresh rewrites the session cookie with the same attributes, on a no-store response", async ({ page }) => {
    await signIn(page, USERS.bob);
    const { accessTokenExpiresAt } = await sessionTiming(page);
    // Off the dashboard, whose countdown would make the refresh request itself.
    await page.goto("/");
    await waitUntil(page, accessTokenExpiresAt);

    const refreshed = await page.request.get("/api/me", { headers: BFF_HEADERS });
    expect(refreshed.status()).toBe(200);
    expect(refreshed.headers()["cache-control"]).toBe("no-store");
    const written = setCookies(refreshed.headersArray());
    expect(written.filter((cookie) => !isDeletion(cookie)).map((cookie) => cookie.name)).toContain(SESSION_COOKIE);
    for (const cookie of written) expectAuthCookieAttributes(cookie);
  });

  test("pages that show session data are not cacheable", async ({ page }) => {
    await signIn(page, USERS.alice);
    for (const path of ["/dashboard", "/"]) {
      const response = await page.goto(path);
      expect(response?.headers()["cache-control"], path).toContain("no-store");
    }
  });
});

/** Serves `html` from another site (127.0.0.1 is not the same site as localhost), for as long as `visit` runs. */
async function crossSitePage(html: string, visit: (origin: string) => Promise<void>): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await visit(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The answer to a POST to `url`: the attack's own request, not one the app's page makes. */
const postResponse = (page: Page, url: string) => page.waitForResponse((response) => response.url() === url && response.request().method() === "POST");

/** A page that posts a form to `action` as soon as it loads, as a malicious site would. */
const autoPostingForm = (action: string, fields: string) =>
  `<!doctype html><form method="post" action="${action}" enctype="text/plain">${fields}</form><script>document.forms[0].submit()</script>`;

async function noteTexts(page: Page): Promise<string> {
  const response = await page.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(response.status()).toBe(200);
  return JSON.stringify(await response.json());
}

test.describe("anti-forgery on the data routes", () => {
  test("every /api/* request without X-CSRF: 1 gets 403 JSON, never a redirect", async ({ page }) => {
    await signIn(page, USERS.alice);
    for (const [method, path] of [
      ["GET", "/api/me"],
      ["GET", "/api/notes"],
      ["POST", "/api/notes"],
      ["DELETE", "/api/notes/abc"],
      ["GET", "/api/no-such-route"],
    ] as const) {
      const response = await page.request.fetch(path, { method, headers: { origin: E2E.web }, data: method === "POST" ? { text: "x" } : undefined, maxRedirects: 0 });
      expect(response.status(), `${method} ${path}`).toBe(403);
      expect(response.headers()["content-type"]).toContain("application/json");
      expect(await response.json()).toMatchObject({ error: "missing_csrf_header" });
    }
  });

  test("a prefetch header does not skip the anti-forgery check on a data request", async ({ page }) => {
    await signIn(page, USERS.alice);
    for (const prefetch of [{ "next-router-prefetch": "1" }, { purpose: "prefetch" }] as Record<string, string>[]) {
      const response = await page.request.post("/api/notes", { headers: { origin: E2E.web, ...prefetch }, data: { text: "prefetched" } });
      expect(response.status(), JSON.stringify(prefetch)).toBe(403);
      expect(await response.json()).toMatchObject({ error: "missing_csrf_header" });
    }
  });

  test("an unsafe request with the header but from another origin gets 403 and changes nothing", async ({ page }) => {
    await signIn(page, USERS.alice);
    const text = unique("forged");
    for (const headers of [
      { "x-csrf": "1", origin: "http://127.0.0.1:9" },
      { "x-csrf": "1", origin: "null" },
      { "x-csrf": "1", "sec-fetch-site": "cross-site" },
      { "x-csrf": "1" },
    ] as Record<string, string>[]) {
      const response = await page.request.post("/api/notes", { headers, data: { text }, maxRedirects: 0 });
      expect(response.status(), JSON.stringify(headers)).toBe(403);
      expect(await response.json()).toMatchObject({ error: "cross_origin" });
    }
    expect(await noteTexts(page)).not.toContain(text);

    // The same request with a same-origin proof goes through: the refusals above were the origin check.
    const control = await page.request.post("/api/notes", { headers: { "x-csrf": "1", "sec-fetch-site": "same-origin" }, data: { text } });
    expect(control.status()).toBe(201);
    const { note } = (await control.json()) as { note: { id: string } };
    expect((await page.request.delete(`/api/notes/${note.id}`, { headers: BFF_HEADERS })).status()).toBe(204);
  });

  test("a real cross-site form post creates no note and does not sign the user out", async ({ page }) => {
    await signIn(page, USERS.alice);
    const text = unique("cross-site");
    // text/plain lets a form send a JSON-looking body: {"text":"...","x":"="}
    const noteForm = autoPostingForm(`${E2E.web}/api/notes`, `<input name='{"text":"${text}","x":"' value='"}'>`);
    await crossSitePage(noteForm, async (attacker) => {
      const answer = postResponse(page, `${E2E.web}/api/notes`);
      await page.goto(attacker);
      const refused = await answer;
      expect(refused.status()).toBe(403);
      expect(await refused.json()).toMatchObject({ error: "missing_csrf_header" });
    });

    await crossSitePage(autoPostingForm(`${E2E.web}/auth/logout`, ""), async (attacker) => {
      const answer = postResponse(page, `${E2E.web}/auth/logout`);
      await page.goto(attacker);
      expect((await answer).status()).toBe(403);
    });

    expect((await page.request.get("/api/me", { headers: BFF_HEADERS })).status()).toBe(200);
    expect(await noteTexts(page)).not.toContain(text);
  });
});

test.describe("the notes proxy", () => {
  test("path tricks never reach the API: the BFF answers 404, or Next.js first redirects to the normalized path", async ({ page }) => {
    await signIn(page, USERS.bob);
    const headers = { cookie: await cookieHeaderFor(page.context()), ...BFF_HEADERS };
    const apiLogBefore = serverLog("api").length;
    for (const path of [
      "/api/notes/..%2f..%2fhealthz",
      "/api/notes/..%2F..%2Fme",
      "/api/notes/%2e%2e%2fhealthz",
      "/api/notes/%252e%252e%252fhealthz",
      "/api/notes/..%5c..%5chealthz",
      "/api/notes/http:%2f%2fevil.example",
      "/api/notes/https%3A%2F%2Fevil.example%2F",
      // Dot segments and repeated slashes: Next.js answers these itself, before any app code runs, with a
      // redirect to the path a browser would have sent anyway (`/api`, `/api/notes/evil`).
      "/api/notes/%2e%2e",
      "/api/notes/..",
      "/api/notes//evil",
    ]) {
      const response = await rawRequest(path, { method: "DELETE", headers });
      if (response.status === 308) {
        expect(response.headers.location, path).toMatch(/^\/[^/\\]/);
        continue;
      }
      expect(response.status, path).toBe(404);
      // The BFF's own answer: the API's 404 for an unknown note has no message.
      expect(JSON.parse(response.body), path).toEqual({ error: "not_found", message: "No such note." });
    }

    // A plain id is forwarded, and the API's log shows it: the log would show the tricks too, had any got through.
    const plain = `plain-${Date.now()}`;
    expect((await rawRequest(`/api/notes/${plain}`, { method: "DELETE", headers })).status).toBe(404);
    await expect.poll(() => serverLog("api").slice(apiLogBefore)).toContain(`/notes/${plain}`);
    expect(serverLog("api").slice(apiLogBefore)).not.toMatch(/healthz|evil|%2|\.\./);
  });

  test("only the routes and methods the BFF defines exist", async ({ page }) => {
    await signIn(page, USERS.bob);
    expect((await page.request.fetch("/api/notes", { method: "PUT", headers: BFF_HEADERS, data: {} })).status()).toBe(405);
    expect((await page.request.fetch("/api/notes/abc", { method: "GET", headers: BFF_HEADERS })).status()).toBe(405);
    for (const path of ["/api/healthz", "/api/notes/abc/extra", "/api/me/notes"]) {
      expect((await page.request.get(path, { headers: BFF_HEADERS })).status(), path).toBe(404);
    }
  });

  test("an oversized body gets 413; a browser's own Authorization header is not what reaches the API", async ({ page }) => {
    await signIn(page, USERS.bob);
    const oversized = await page.request.post("/api/notes", { headers: BFF_HEADERS, data: { text: "x".repeat(20_000) } });
    expect(oversized.status()).toBe(413);
    expect(await oversized.json()).toMatchObject({ error: "payload_too_large" });

    // Were it forwarded, the API would refuse this token; the session's token replaces it.
    const withForgedBearer = await page.request.get("/api/notes", { headers: { ...BFF_HEADERS, authorization: "Bearer forged.token.value" } });
    expect(withForgedBearer.status()).toBe(200);
  });
});

test.describe("open redirects", () => {
  const PAYLOADS = [
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "https://evil.example/",
    "%2F%2Fevil.example",
    "javascript:alert(document.domain)",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    "/.//evil.example",
    "/%2e//evil.example",
    "/..//evil.example",
    `${E2E.web}@evil.example/`,
  ];

  /** Records every navigation, to prove none ever left the app and the IdP, and that the IdP asked for no password. */
  function navigations(page: Page): string[] {
    const urls: string[] = [];
    page.on("request", (request) => {
      if (request.isNavigationRequest()) urls.push(request.url());
    });
    return urls;
  }

  test("returnTo: every payload lands on the dashboard, and sign-in after the first needs no password", async ({ page }) => {
    await signIn(page, USERS.alice);
    const visited = navigations(page);
    for (const payload of PAYLOADS) {
      await page.goto(`/auth/login?returnTo=${encodeURIComponent(payload)}`);
      await expect(page, JSON.stringify(payload)).toHaveURL(`${E2E.web}/dashboard`);
    }
    // The same flow honours a local path: the payloads above were refused, not ignored.
    await page.goto(`/auth/login?returnTo=${encodeURIComponent("/dashboard?view=all")}`);
    await expect(page).toHaveURL(`${E2E.web}/dashboard?view=all`);
    expect(visited.filter((url) => !url.startsWith(`${E2E.web}/`) && !url.startsWith(`${E2E.idp}/`))).toEqual([]);
    expect(visited.filter((url) => url.startsWith(`${E2E.idp}/interaction`))).toEqual([]);
  });

  /** Runs a sign-in up to the OIDC callback without following it, with the browser's cookies (the IdP remembers the user). */
  async function signInUpToCallback(page: Page, returnTo: string): Promise<URL> {
    let location = `${E2E.web}/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
    for (let hop = 0; hop < 5; hop += 1) {
      const response = await page.request.get(location, { maxRedirects: 0 });
      location = new URL(response.headers().location ?? "", location).href;
      if (location.startsWith(`${E2E.web}/auth/callback/oidc?`)) return new URL(location);
    }
    throw new Error(`sign-in did not reach the callback; last stop ${location}`);
  }

  test("callbackUrl: a value added to the OIDC callback is ignored; sign-in returns where it started for", async ({ page }) => {
    await signIn(page, USERS.alice);
    const visited = navigations(page);
    const statuses: number[] = [];
    page.on("response", (response) => statuses.push(response.status()));
    for (const payload of ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/dashboard"]) {
      const callback = await signInUpToCallback(page, "/dashboard?view=all");
      callback.searchParams.set("callbackUrl", payload);
      await page.goto(callback.href);
      await expect(page, JSON.stringify(payload)).toHaveURL(`${E2E.web}/dashboard?view=all`);
    }
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(visited.filter((url) => !url.startsWith(`${E2E.web}/`) && !url.startsWith(`${E2E.idp}/`))).toEqual([]);
  });
});

test.describe("Content Security Policy and other headers", () => {
  interface Violations {
    events: string[];
    console: string[];
  }

  /** CSP violations, from the page's own `securitypolicyviolation` events and from Chromium's console. */
  async function watchViolations(page: Page): Promise<Violations> {
    const violations: Violations = { events: [], console: [] };
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.console.push(message.text());
    });
    await page.exposeFunction("reportCspViolation", (violation: string) => violations.events.push(violation));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        (window as unknown as { reportCspViolation(v: string): void }).reportCspViolation(`${event.effectiveDirective} ${event.blockedURI}`);
      });
    });
    return violations;
  }

  const directive = (csp: string, name: string) =>
    csp
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .find(([directiveName]) => directiveName === name)
      ?.slice(1) ?? [];

  /**
   * Injects markup as an XSS would (an inline event handler, and an inline script in a same-origin frame, which
   * inherits the page's policy) and reports which of them ran. A script created by code already running is not
   * the question: 'strict-dynamic' deliberately trusts what trusted scripts create.
   */
  const inject = (target: Page) =>
    target.evaluate(async () => {
      const ran: string[] = [];
      (window as unknown as { ran: string[] }).ran = ran;
      const frame = document.createElement("iframe");
      frame.srcdoc = "<script>parent.ran.push('inline script')</script>";
      const framed = new Promise((resolve) => frame.addEventListener("load", resolve));
      document.body.append(frame);
      document.body.insertAdjacentHTML("beforeend", `<img id="injected" src="data:," onerror="window.ran.push('event handler')">`);
      const failed = new Promise((resolve) => document.getElementById("injected")!.addEventListener("error", resolve));
      await Promise.all([framed, failed]);
      return ran;
    });

  test("the dashboard runs only scripts with this response's nonce; injected ones are blocked", async ({ page, context }) => {
    const violations = await watchViolations(page);
    await signIn(page, USERS.alice);

    const nonces: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const response = (await page.goto("/dashboard")) as Response;
      const csp = response.headers()["content-security-policy"] ?? "";
      const scriptSrc = directive(csp, "script-src");
      expect(scriptSrc).not.toContain("'unsafe-inline'");
      expect(scriptSrc).not.toContain("'unsafe-eval'");
      const nonce = scriptSrc.find((source) => source.startsWith("'nonce-"))?.slice("'nonce-".length, -1);
      expect(nonce, csp).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      // Next.js put this response's nonce on its scripts.
      expect(await response.text()).toContain(`nonce="${nonce}"`);
      nonces.push(nonce!);
      expect(directive(csp, "frame-ancestors")).toEqual(["'none'"]);
      expect(directive(csp, "object-src")).toEqual(["'none'"]);
      expect(directive(csp, "base-uri")).toEqual(["'none'"]);
    }
    expect(nonces[0]).not.toBe(nonces[1]);

    // The page's scripts ran: the notes list loaded through the BFF.
    await expect(page.getByTestId("no-notes").or(page.getByRole("list", { name: "Notes" }))).toBeVisible();
    expect(violations).toEqual({ events: [], console: [] });

    expect(await inject(page)).toEqual([]);
    await expect.poll(() => violations.events.map((violation) => violation.split(" ")[0]).sort()).toEqual(["script-src-attr", "script-src-elem"]);

    // The same injection runs on a page without the policy: what blocked it above was the CSP.
    const bare = await context.newPage();
    await bare.setContent("<!doctype html><body></body>");
    expect((await inject(bare)).sort()).toEqual(["event handler", "inline script"]);
  });

  test("every page carries nosniff, a strict Referrer-Policy, a Permissions-Policy, and refuses framing", async ({ page }) => {
    for (const path of ["/", "/auth/error", "/signed-out"]) {
      const response = (await page.goto(path)) as Response;
      const headers = response.headers();
      expect(headers["x-content-type-options"], path).toBe("nosniff");
      expect(["strict-origin-when-cross-origin", "strict-origin", "same-origin", "no-referrer"], path).toContain(headers["referrer-policy"]);
      expect(headers["permissions-policy"], path).toMatch(/camera=\(\)/);
      expect(headers["x-frame-options"], path).toBe("DENY");
      expect(directive(headers["content-security-policy"] ?? "", "frame-ancestors"), path).toEqual(["'none'"]);
      // Served over http://localhost here: HSTS is for https deployments only (unit-tested in middleware.test.ts).
      expect(headers["strict-transport-security"], path).toBeUndefined();
    }
  });
});

test.describe("unreadable session cookies", () => {
  const flipMiddle = (value: string) => {
    const i = Math.floor(value.length / 2);
    return value.slice(0, i) + (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
  };
  const b64 = (text: string) => Buffer.from(text).toString("base64url");
  /** Well-formed, but sealed with a key this app does not hold. */
  const unknownSecret = [b64('{"alg":"dir","enc":"A256GCM","kid":"retired-key"}'), "", b64("0123456789ab"), b64("x".repeat(300)), b64("0123456789abcdef")].join(".");

  test("a tampered cookie, one sealed with an unknown secret, or garbage: signed out, cleared, never a 500", async ({ page }) => {
    await signIn(page, USERS.bob);
    const original = await sessionCookies(page.context());
    expect(original.length).toBeGreaterThan(0);

    for (const [label, value] of [
      ["tampered", flipMiddle(original[0]!.value)],
      ["unknown secret", await sealData({ sub: "mallory" }, { password: { 1: "a-secret-this-app-does-not-hold-0123456789" } })],
      ["unknown secret, in the format before iron-session", unknownSecret],
      ["garbage", "not-a-session"],
    ] as const) {
      await page.context().addCookies([...original.slice(1), { ...original[0]!, value }]);
      // The freshness hint, where the browser still holds one, goes with the session.
      const hint = (await page.context().cookies()).filter((cookie) => cookie.name === `${AUTH_COOKIE_PREFIX}fresh`);

      const api = await page.request.get("/api/me", { headers: BFF_HEADERS, maxRedirects: 0 });
      expect(api.status(), label).toBe(401);
      expect(await api.json()).toMatchObject({ error: "unauthenticated" });
      const cleared = setCookies(api.headersArray());
      // The ID token's cookie travels only to sign-out, so it is deleted blind, with the session.
      expect(cleared.map((cookie) => cookie.name).sort(), label).toEqual([...[...original, ...hint].map((cookie) => cookie.name), ID_TOKEN_COOKIE].sort());
      for (const cookie of cleared) {
        expect(isDeletion(cookie), label).toBe(true);
        expectAuthCookieAttributes(cookie);
      }
      expect(await sessionCookies(page.context()), label).toEqual([]);

      await page.context().addCookies([...original.slice(1), { ...original[0]!, value }]);
      const navigation = await page.request.get("/dashboard", { maxRedirects: 0 });
      expect(navigation.status(), label).toBe(303);
      expect(new URL(navigation.headers().location ?? "", E2E.web).href, label).toBe(`${E2E.web}/auth/login?returnTo=%2Fdashboard`);
      expect(setCookies(navigation.headersArray()).every(isDeletion), label).toBe(true);
    }

    // Through the browser: straight back through sign-in (the IdP remembers Bob) to a working dashboard.
    await page.context().addCookies([{ ...original[0]!, value: flipMiddle(original[0]!.value) }]);
    const statuses: number[] = [];
    page.on("response", (response) => statuses.push(response.status()));
    await page.goto("/dashboard");
    await expect(page.getByRole("heading", { name: `Hello, ${USERS.bob.name}` })).toBeVisible();
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });
});

test.describe("sign-in errors", () => {
  const HOSTILE = `<img src=x onerror=alert(1)>`;

  /** The generic error page, reached without a 5xx on the way, without a stack trace, and without `markup` in it. */
  async function expectGenericErrorPage(page: Page, response: Response | null, markup?: string): Promise<void> {
    await expect(page).toHaveURL(new RegExp(`^${E2E.web}/auth/error`));
    expect(response?.status()).toBe(200);
    for (let hop = response?.request().redirectedFrom(); hop; hop = hop.redirectedFrom()) {
      expect((await hop.response())?.status(), hop.url()).toBeLessThan(500);
    }
    const html = (await response?.text()) ?? "";
    if (markup) {
      // The page's own URL travels percent-encoded in Next.js's payload; the markup itself must never appear.
      expect(html).not.toContain(markup);
      expect(html).not.toContain(markup.replaceAll("<", "\\u003c"));
    }
    expect(html).not.toMatch(/\bat .+:\d+:\d+\)?/);
    expect(html).not.toContain("node_modules");
    await expect(page.getByRole("heading", { name: "Sign-in problem" })).toBeVisible();
    await expect(page.locator("main img, main script")).toHaveCount(0);
  }

  test.beforeEach(({ page }) => {
    page.on("dialog", (dialog) => {
      throw new Error(`a script ran: ${dialog.message()}`);
    });
  });

  test("an IdP error with HTML in its description ends on the generic error page, escaped, without a stack trace", async ({ page }) => {
    // A sign-in in progress, so that the callback's state matches and Auth.js reads the IdP's error.
    const toIdp = page.waitForRequest((request) => request.url().startsWith(`${E2E.idp}/auth?`));
    await page.goto("/auth/login?returnTo=/dashboard");
    const state = new URL((await toIdp).url()).searchParams.get("state") ?? "";
    expect(state).not.toBe("");

    const logBefore = serverLog("web").length;
    for (const query of [
      { error: "access_denied", error_description: HOSTILE, state, iss: E2E.idp },
      { error: "access_denied", error_description: HOSTILE, state: "x" },
    ] as Record<string, string>[]) {
      await expectGenericErrorPage(page, await page.goto(`/auth/callback/oidc?${new URLSearchParams(query)}`), HOSTILE);
    }
    await expect.poll(() => serverLog("web").slice(logBefore)).toContain("[auth] sign-in failed");
    expect(serverLog("web").slice(logBefore)).not.toContain("onerror");
  });

  test("the error page shows only its fixed messages, whatever the error parameter says", async ({ page }) => {
    for (const error of [`<script>alert(1)</script>`, HOSTILE, "Verification", "toString", "__proto__", "constructor"]) {
      await expectGenericErrorPage(page, await page.goto(`/auth/error?error=${encodeURIComponent(error)}`), error.startsWith("<") ? error : undefined);
      await expect(page.getByRole("main").getByRole("alert")).toHaveText("Sign-in could not be completed. Please try again.");
    }
  });
});
