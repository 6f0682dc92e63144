/**
 * Telemetry, end to end: the suite's stack exports to its own OTLP receiver (see playwright.config.ts). One user's
 * sign-in, a data request that needs a silent refresh, and a sign-out must show in the metrics of the web app and the
 * API, and the data request must be one trace from the middleware through the route handler to the API. Among the
 * isolated tests, which run one at a time, so the counts it takes before and after are its own.
 */
import { expect, test, type Page } from "@playwright/test";
import { E2E } from "../../playwright.config";
import { BFF_HEADERS, latestTokens, sessionTiming, signIn, USERS, waitUntil } from "../support";
import { ancestry, exportedSpans, metricTotal } from "../telemetry";

test.describe.configure({ mode: "serial" });

const SPAN_KIND = { server: 2, client: 3 } as const;

/** The counts this test moves, as exported so far. */
function counts() {
  return {
    signIns: metricTotal("tessera.sign_ins", { "tessera.outcome": "ok" }),
    refreshed: metricTotal("tessera.refreshes", { "tessera.outcome": "refreshed" }),
    shared: metricTotal("tessera.refreshes", { "tessera.outcome": "joined" }) + metricTotal("tessera.refreshes", { "tessera.outcome": "grace_cache" }),
    tokenCalls: metricTotal("tessera.idp.request.duration", { "tessera.idp.endpoint": "token", "http.response.status_code": 200 }),
    revocationCalls: metricTotal("tessera.idp.request.duration", { "tessera.idp.endpoint": "revocation" }),
    apiCalls: metricTotal("tessera.api.client.request.duration", { "http.route": "/api/notes", "http.request.method": "GET", "http.response.status_code": 200 }),
    cookieWrites: metricTotal("tessera.session.cookie.size"),
    endedRefusals: metricTotal("tessera.session.ended_refusals"),
    forgeries: metricTotal("tessera.anti_forgery.refusals", { "tessera.reason": "missing_csrf_header" }),
    logoutTokensRefused: metricTotal("tessera.backchannel_logout.tokens", { "tessera.outcome": "refused", "tessera.reason": "invalid_logout_token" }),
    apiAccepted: metricTotal("tessera.api.token.verifications", { "tessera.outcome": "accepted" }),
    apiRevoked: metricTotal("tessera.api.revocation.hits"),
    apiServed: metricTotal("http.server.request.duration", { "http.route": "/notes", "http.request.method": "GET", "http.response.status_code": 200 }),
  };
}

/** Leave the dashboard, whose countdown would otherwise make requests of its own while the test waits. */
async function idle(page: Page): Promise<void> {
  await page.goto("/signed-out");
}

test("a sign-in, a refresh, data requests and a sign-out are measured on the web app and the API", async ({ page, browser }) => {
  const before = counts();
  await signIn(page, USERS.alice);
  const { sub, accessTokenExpiresAt } = await sessionTiming(page);
  const { access_token: accessToken } = await latestTokens(page.request, sub);
  await idle(page);
  await waitUntil(page, accessTokenExpiresAt + 300);

  // The browser's own data requests, five at once, once the token has expired: the middleware refreshes it silently,
  // once; the other four share that refresh, in flight or just after.
  const refreshedAt = Date.now();
  const statuses = await page.evaluate(() => Promise.all(Array.from({ length: 5 }, async () => (await fetch("/api/notes", { headers: { "x-csrf": "1" } })).status)));
  expect(statuses).toEqual([200, 200, 200, 200, 200]);
  expect((await page.request.get("/api/notes")).status(), "no anti-forgery header").toBe(403);
  expect((await page.request.post("/auth/backchannel-logout", { form: { logout_token: "not-a-jwt" } })).status()).toBe(400);

  const copied = await page.context().cookies();
  await page.goto("/dashboard");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${E2E.web}/signed-out?state=complete`);
  // A copy of the signed-out session is refused by the web app, and its access token by the API.
  const replay = await browser.newContext();
  await replay.addCookies(copied);
  expect((await replay.request.get("/api/notes", { headers: BFF_HEADERS })).status()).toBe(401);
  await replay.close();
  expect((await page.request.get(`${E2E.api}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status()).toBe(401);

  const moved = (key: keyof ReturnType<typeof counts>) => counts()[key] - before[key];
  await expect.poll(() => moved("signIns"), { message: "sign-ins, ok" }).toBe(1);
  await expect.poll(() => moved("refreshed"), { message: "refreshes, refreshed" }).toBe(1);
  // Each of the other four shared it, unless it left after the browser already held the new cookie (then it skipped
  // the middleware: nothing to count).
  await expect.poll(() => moved("shared"), { message: "refreshes, joined or from the grace cache" }).toBeGreaterThanOrEqual(1);
  expect(moved("shared")).toBeLessThanOrEqual(4);
  await expect.poll(() => moved("tokenCalls"), { message: "IdP token calls: the code exchange and the refresh" }).toBe(2);
  await expect.poll(() => moved("revocationCalls"), { message: "IdP revocation calls at sign-out" }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => moved("apiCalls"), { message: "calls to the API's /notes" }).toBeGreaterThanOrEqual(6);
  await expect.poll(() => moved("cookieWrites"), { message: "session cookies written: sign-in and refresh" }).toBeGreaterThanOrEqual(2);
  await expect.poll(() => moved("endedRefusals"), { message: "ended sessions refused" }).toBe(1);
  await expect.poll(() => moved("forgeries"), { message: "anti-forgery refusals" }).toBe(1);
  await expect.poll(() => moved("logoutTokensRefused"), { message: "logout tokens refused" }).toBe(1);
  await expect.poll(() => moved("apiAccepted"), { message: "access tokens the API accepted" }).toBeGreaterThanOrEqual(2);
  await expect.poll(() => moved("apiRevoked"), { message: "revoked tokens the API refused" }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => moved("apiServed"), { message: "the API's GET /notes answers" }).toBeGreaterThanOrEqual(2);

  // One trace: the refresh, and in the same trace the API's span for the data request that made it, with its parents
  // in the web app.
  let trace: ReturnType<typeof exportedSpans> = [];
  await expect
    .poll(
      () => {
        const spans = exportedSpans().filter((span) => span.startMs >= refreshedAt - 1000);
        const refresh = spans.find((span) => span.name === "tessera.refresh");
        trace = refresh ? spans.filter((span) => span.traceId === refresh.traceId) : [];
        const api = trace.find((span) => span.service === "tessera-api" && span.name === "GET /notes" && span.kind === SPAN_KIND.server);
        return api ? ancestry(api, spans).map((span) => `${span.service} ${span.name}`) : [];
      },
      { message: "the API's span and its parents" },
    )
    .toEqual(expect.arrayContaining(["tessera-api GET /notes", "tessera-web GET /api/notes", "tessera-web tessera.data_route", "tessera-web tessera.middleware"]));
  const names = trace.map((span) => span.name);
  expect(names).toEqual(expect.arrayContaining(["tessera.session.read", "tessera.refresh", "idp token"]));
  expect(trace.find((span) => span.name === "tessera.data_route")?.attributes).toMatchObject({ "http.route": "/api/notes", "http.response.status_code": 200 });
  expect(trace.find((span) => span.name === "GET /api/notes" && span.kind === SPAN_KIND.client)?.attributes).toMatchObject({ "http.response.status_code": 200 });
  expect(trace.find((span) => span.name === "tessera.refresh")?.attributes).toMatchObject({ "tessera.outcome": "refreshed" });
});
