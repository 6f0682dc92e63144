/**
 * Several web instances behind nginx round-robin, sharing one Redis (scripts/cluster.ts, deploy/nginx.conf),
 * against the real IdP and API: refresh, sign-out and back-channel logout hold across instances, and Redis or an
 * instance failing signs nobody out. The last tests run the same race without Redis, to show it can fail.
 */
import { createRequire } from "node:module";
import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { startService } from "../../scripts/processes";
import { missingClusterCommands, type Cluster } from "../../scripts/cluster";
import { SESSION_COOKIE, signIn, testHook, USERS, type User } from "../support";
import { bffHeaders, PORTS, raceAtExpiry, startTestCluster, stats, stopTestCluster, timing, untilExpired } from "./stack";

test.describe.configure({ mode: "serial" });

// Without redis-server or nginx the cluster cannot run: skipped with what to install, except on CI, where it must run.
const missing = missingClusterCommands();
if (missing.length > 0 && process.env.CI) throw new Error(`the cluster tests need ${missing.join("; ")}`);
test.skip(missing.length > 0, `needs ${missing.join("; ")}`);

// Each test's browsers are closed after it: a dashboard left open keeps refreshing, and the IdP's counters are per user.
const opened: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(opened.splice(0).map((context) => context.close()));
});

async function signedIn(browser: Browser, cluster: Cluster, user: User = USERS.alice): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  opened.push(context);
  const page = await context.newPage();
  await signIn(page, user, { web: cluster.url, idp: cluster.idpUrl });
  return { context, page };
}

/** The access token the IdP last issued to `sub`, from its test hook: what a copied cookie holds. */
async function latestAccessToken(page: Page, cluster: Cluster, sub: string): Promise<string> {
  const tokens = await testHook(page.request, "GET", cluster.idpUrl, `tokens?sub=${encodeURIComponent(sub)}`);
  return ((await tokens.json()) as { access_token: string }).access_token;
}

/** Another browser holding a copy of `context`'s cookies, as a thief would. */
async function copyOf(browser: Browser, context: BrowserContext): Promise<BrowserContext> {
  const copy = await browser.newContext();
  opened.push(copy);
  await copy.addCookies(await context.cookies());
  return copy;
}

test.describe("with Redis", () => {
  let cluster: Cluster;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    cluster = await startTestCluster("shared");
  });
  test.afterAll(async () => {
    if (cluster) await stopTestCluster(cluster);
  });

  test("one refresh per expiry across both instances: 20 requests alternating them and a page through nginx, three rounds", async ({ browser }) => {
    const { page } = await signedIn(browser, cluster);
    const { sub } = await timing(page, cluster);
    const before = await stats(page.request, cluster, sub);
    for (let round = 1; round <= 3; round += 1) {
      const { statuses } = await raceAtExpiry(page, cluster);
      expect(statuses, `round ${round}`).toEqual(Array(21).fill(200));
      await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
    }
    const after = await stats(page.request, cluster, sub);
    expect(after.refreshGrants - before.refreshGrants, "token-endpoint refreshes").toBe(3);
    expect(after.refreshFailures - before.refreshFailures, "reuse detections").toBe(0);
  });

  test("a cookie from before a refresh, replayed on the other instance, is brought forward without reaching the IdP", async ({ browser }) => {
    const { context, page } = await signedIn(browser, cluster);
    const { sub } = await timing(page, cluster);
    const stale = await copyOf(browser, context);
    await untilExpired(page, cluster);
    const before = await stats(page.request, cluster, sub);

    expect((await page.request.get(`${cluster.instanceUrls[0]}/api/notes`, { headers: bffHeaders(cluster) })).status()).toBe(200);
    const replayed = await stale.request.get(`${cluster.instanceUrls[1]}/api/notes`, { headers: bffHeaders(cluster) });
    expect(replayed.status()).toBe(200);
    const newest = await page.request.get(`${cluster.url}/api/notes`, { headers: bffHeaders(cluster) });
    expect(newest.status()).toBe(200);

    const after = await stats(page.request, cluster, sub);
    expect(after.refreshGrants - before.refreshGrants).toBe(1);
    expect(after.refreshFailures - before.refreshFailures).toBe(0);
  });

  test("sign-out on one instance: a copy of the cookie is refused at once by the other, on pages, data routes and at the API", async ({ browser }) => {
    const { context, page } = await signedIn(browser, cluster);
    const { sub } = await timing(page, cluster);
    const accessToken = await latestAccessToken(page, cluster, sub);
    const copy = await copyOf(browser, context);
    const [a, b] = cluster.instanceUrls as [string, string];

    const signOut = await page.request.post(`${a}/auth/logout`, { headers: { origin: cluster.url }, maxRedirects: 0 });
    expect(signOut.status()).toBe(303);

    const pageAnswer = await copy.request.get(`${b}/dashboard`, { maxRedirects: 0 });
    expect(pageAnswer.status()).toBeGreaterThanOrEqual(300);
    expect(pageAnswer.status()).toBeLessThan(400);
    expect(pageAnswer.headers()["location"]).toMatch(/\/auth\/login\?returnTo=%2Fdashboard|\/auth\/login\?returnTo=\/dashboard/);
    expect((await copy.request.get(`${b}/api/notes`, { headers: bffHeaders(cluster) })).status()).toBe(401);
    const api = await copy.request.get(`${cluster.apiUrl}/notes`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(api.status()).toBe(401);
  });

  test("a back-channel logout delivered to either instance is honoured by both at once", async ({ browser }) => {
    const { context, page } = await signedIn(browser, cluster, USERS.bob);
    const { sub } = await timing(page, cluster);
    const copy = await copyOf(browser, context);
    const accessToken = await latestAccessToken(page, cluster, sub);
    const ended = await testHook(page.request, "POST", cluster.idpUrl, `end-session?sub=${encodeURIComponent(sub)}`);
    expect(await ended.json()).toMatchObject({ delivered: 1, failed: 0 });
    for (const instance of cluster.instanceUrls) {
      expect((await copy.request.get(`${instance}/dashboard`, { maxRedirects: 0 })).headers()["location"], instance).toMatch(/\/auth\/login/);
      expect((await copy.request.get(`${instance}/api/notes`, { headers: bffHeaders(cluster) })).status(), instance).toBe(401);
      expect((await page.request.get(`${instance}/api/notes`, { headers: bffHeaders(cluster) })).status(), instance).toBe(401);
    }
    const api = await page.request.get(`${cluster.apiUrl}/notes`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(api.status()).toBe(401);
  });

  test("Redis stopped: nobody is signed out; every request that needs it answers 503; all recovers when Redis is back, with no reuse", async ({ browser }) => {
    const { context, page } = await signedIn(browser, cluster);
    const { sub, accessTokenExpiresAt } = await timing(page, cluster);
    const before = await stats(page.request, cluster, sub);
    const sessionCookies = async () => (await context.cookies()).filter((cookie) => cookie.name.startsWith(SESSION_COOKIE));
    const cookiesBefore = await sessionCookies();
    expect(cookiesBefore.length).toBeGreaterThan(0);
    const expectUnavailable = async () => {
      const data = await page.request.get(`${cluster.url}/api/notes`, { headers: bffHeaders(cluster) });
      expect(data.status()).toBe(503);
      expect(data.headers()["retry-after"]).toMatch(/^\d+$/);
      expect(await data.json()).toMatchObject({ error: "service_unavailable" });
      expect(data.headersArray().filter(({ name }) => name.toLowerCase() === "set-cookie")).toEqual([]);
      const navigation = await page.goto(`${cluster.url}/dashboard`);
      expect(navigation?.status()).toBe(503);
      expect(navigation?.headers()["retry-after"]).toMatch(/^\d+$/);
      await expect(page.getByRole("heading", { name: "Tessera is briefly unavailable" })).toBeVisible();
      await expect(page.getByRole("button", { name: "sign out" })).toBeVisible();
      expect(await sessionCookies()).toEqual(cookiesBefore);
    };

    await cluster.stopRedis();
    try {
      // A current token: the list of ended sessions cannot be read, and fails closed.
      await expectUnavailable();
      expect(page.url()).toBe(`${cluster.url}/unavailable?returnTo=%2Fdashboard`);
      await expect(page.getByRole("link", { name: "Try again" })).toHaveAttribute("href", "/dashboard");
      // An expired token: the refresh cannot be coordinated, and is not made.
      await page.waitForTimeout(Math.max(0, accessTokenExpiresAt - Date.now()) + 200);
      await expectUnavailable();
      expect((await stats(page.request, cluster, sub)).refreshGrants, "refreshes without Redis").toBe(before.refreshGrants);
    } finally {
      await cluster.startRedis();
    }

    await expect
      .poll(async () => (await page.request.get(`${cluster.url}/api/notes`, { headers: bffHeaders(cluster) })).status(), { timeout: 15_000 })
      .toBe(200);
    await page.goto(`${cluster.url}/dashboard`);
    await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
    // Refreshed again once Redis answered (and as often as the short-lived tokens asked since), never reused.
    const after = await stats(page.request, cluster, sub);
    expect(after.refreshGrants - before.refreshGrants).toBeGreaterThanOrEqual(1);
    expect(after.refreshFailures - before.refreshFailures).toBe(0);
  });

  test("an instance killed under load: the other serves the session, and the restarted one serves it too", async ({ browser }) => {
    const { page } = await signedIn(browser, cluster);
    const { sub } = await timing(page, cluster);
    const before = await stats(page.request, cluster, sub);
    // Each request's outcome, and whether it was sent before the instance was gone: one that instance was
    // answering when it died is cut off mid-answer (nginx has passed its headers on and cannot try again).
    const outcomes: { sentBeforeGone: boolean; status: number | "cut off" }[] = [];
    let gone = false;
    const until = Date.now() + 6_000;
    const load = (async () => {
      while (Date.now() < until) {
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            const sentBeforeGone = !gone;
            const status = await page.request.get(`${cluster.url}/api/notes`, { headers: bffHeaders(cluster) }).then(
              (response) => response.status(),
              () => "cut off" as const,
            );
            outcomes.push({ sentBeforeGone, status });
          }),
        );
      }
    })();
    await page.waitForTimeout(1_500);
    await cluster.stopInstance(0, { kill: true });
    gone = true;
    await load;
    const afterwards = outcomes.filter((outcome) => !outcome.sentBeforeGone);
    expect(afterwards.length).toBeGreaterThan(20);
    expect(afterwards.filter((outcome) => outcome.status !== 200)).toEqual([]);
    // Before it was gone, only what it was answering at that moment may fail: at most the batch in flight and one
    // sent while it was being killed.
    expect(outcomes.filter((outcome) => outcome.sentBeforeGone && outcome.status !== 200).length).toBeLessThanOrEqual(8);
    expect((await page.request.get(`${cluster.instanceUrls[1]}/api/notes`, { headers: bffHeaders(cluster) })).status()).toBe(200);

    await cluster.startInstance(0);
    expect((await page.request.get(`${cluster.instanceUrls[0]}/api/notes`, { headers: bffHeaders(cluster) })).status()).toBe(200);
    expect((await stats(page.request, cluster, sub)).refreshFailures - before.refreshFailures).toBe(0);
  });

  test("the load balancer takes a Cookie header as large as the session cookie's budget", async ({ request }) => {
    const cookie = Array.from({ length: 4 }, (_, i) => `__Host-tessera-session.${i}=${"a".repeat(3_900)}`).join("; ");
    const answer = await request.get(`${cluster.url}/healthz`, { headers: { cookie } });
    expect(answer.status()).toBe(200);
  });

  test("the coordination route is denied at the load balancer and refuses any caller without the secret", async ({ request }) => {
    expect((await request.post(`${cluster.url}/internal/refresh`, { data: {} })).status()).toBe(404);
    for (const instance of cluster.instanceUrls) {
      const answer = await request.post(`${instance}/internal/refresh`, { data: {}, headers: { "x-tessera-coordination": "guess" } });
      expect(answer.status(), instance).toBe(404);
    }
  });
});

test.describe("without Redis, each instance on its own", () => {
  let cluster: Cluster;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    cluster = await startTestCluster("uncoordinated", { redis: false });
  });
  test.afterAll(async () => {
    if (cluster) await stopTestCluster(cluster);
  });

  test("the same race is lost: the IdP sees the refresh token twice", async ({ browser }) => {
    const { page } = await signedIn(browser, cluster);
    const { sub } = await timing(page, cluster);
    const before = await stats(page.request, cluster, sub);
    const { statuses } = await raceAtExpiry(page, cluster);
    const after = await stats(page.request, cluster, sub);
    const coordinated =
      statuses.every((status) => status === 200) && after.refreshGrants - before.refreshGrants === 1 && after.refreshFailures === before.refreshFailures;
    expect(coordinated, `statuses ${statuses.join(",")}; refreshes ${after.refreshGrants - before.refreshGrants}; reuse ${after.refreshFailures - before.refreshFailures}`).toBe(false);
  });

  test("a second web process on an instance's embedded SQLite file refuses to start, and says why", async () => {
    const port = PORTS.web[1]! + 10;
    // The same folder as the first instance, which holds its list of ended sessions.
    const starting = startService({
      name: "second-process",
      args: [createRequire(import.meta.url).resolve("next/dist/bin/next"), "start"],
      env: { ...cluster.instanceEnv(0), PORT: String(port) },
      ready: `http://localhost:${port}/healthz`,
      logFile: cluster.logFile("second-process"),
      timeoutMs: 30_000,
    });
    await expect(starting).rejects.toThrow(/exited during start-up/);
    await expect(starting).rejects.toThrow(/is in use by another web process/);
  });
});
