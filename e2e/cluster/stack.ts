/**
 * The cluster the cluster tests run: scripts/cluster.ts (what `npm run start:cluster` runs, with
 * deploy/nginx.conf), from the suite's production build, on ports of its own, with short-lived access tokens and
 * the dev IdP's test hooks. Started by the spec, stopped with a check that none of the tokens its IdP issued
 * reached any of its logs.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { startCluster, type Cluster, type ClusterPorts } from "../../scripts/cluster";
import { ensureTestHooksToken, fetchTestHook } from "../../scripts/test-hooks";
import { expectNoTokenIn, testHook, tokenNeedles, type IdpStats } from "../support";

export const PORTS: ClusterPorts = { lb: 3300, web: [3301, 3302], idp: 4300, api: 4301, redis: 6390 };
/** Short, so that every test crosses refreshes; the middleware refreshes a quarter of it before expiry. */
export const ACCESS_TOKEN_TTL = 8;

export async function startTestCluster(name: string, { redis = true } = {}): Promise<Cluster> {
  const dataDir = path.join(".data/e2e/cluster", name);
  rmSync(dataDir, { recursive: true, force: true });
  return startCluster({
    ports: PORTS,
    dataDir,
    redis,
    env: {
      // Test-only values: these processes live for one run on loopback.
      AUTH_SECRET: "e2e-cluster-auth-secret-0123456789abcdef0123456789",
      OIDC_CLIENT_ID: "tessera-bff",
      OIDC_CLIENT_SECRET: "e2e-cluster-client-secret-0123456789abcdef",
      IDP_TEST_HOOKS: "1",
      TEST_HOOKS_TOKEN: ensureTestHooksToken(),
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
    },
  });
}

/** Stops the cluster, after checking that no token its IdP issued appears in any of its logs. */
export async function stopTestCluster(cluster: Cluster): Promise<void> {
  try {
    const needles = tokenNeedles((await (await fetchTestHook(cluster.idpUrl, "issued")).json()) as Record<string, string[]>);
    expect(needles.length).toBeGreaterThan(0);
    const logsDir = path.dirname(cluster.logFile("idp"));
    for (const file of readdirSync(logsDir)) expectNoTokenIn(readFileSync(path.join(logsDir, file), "utf8"), needles, file);
  } finally {
    await cluster.stop();
  }
}

/** What the UI sends with every data request; the Origin is the public one, whichever instance answers. */
export const bffHeaders = (cluster: Cluster) => ({ "x-csrf": "1", origin: cluster.url });

export async function stats(request: APIRequestContext, cluster: Cluster, sub: string): Promise<IdpStats> {
  const response = await testHook(request, "GET", cluster.idpUrl, `stats?sub=${encodeURIComponent(sub)}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as IdpStats;
}

export async function timing(page: Page, cluster: Cluster): Promise<{ sub: string; accessTokenExpiresAt: number }> {
  const response = await page.request.get(`${cluster.url}/api/me`, { headers: bffHeaders(cluster) });
  expect(response.status()).toBe(200);
  const me = (await response.json()) as { sub: string; accessTokenExpiresAt: string };
  return { sub: me.sub, accessTokenExpiresAt: Date.parse(me.accessTokenExpiresAt) };
}

/** Waits on the wall clock, on a page that asks nothing of the session, until the access token has expired. */
export async function untilExpired(page: Page, cluster: Cluster): Promise<void> {
  const { accessTokenExpiresAt } = await timing(page, cluster);
  await page.goto(`${cluster.url}/signed-out`);
  await page.waitForTimeout(Math.max(0, accessTokenExpiresAt - Date.now()) + 200);
}

export interface RaceRound {
  /** Every data request's status, then the page's. */
  statuses: number[];
}

/**
 * The moment of expiry, as a busy user meets it: 20 data requests at once, alternating the two instances
 * directly, and a page load through nginx, all with the same (expired) session cookie.
 */
export async function raceAtExpiry(page: Page, cluster: Cluster): Promise<RaceRound> {
  await untilExpired(page, cluster);
  const data = Array.from({ length: 20 }, (_, i) =>
    page.request.get(`${cluster.instanceUrls[i % 2]}/api/notes`, { headers: bffHeaders(cluster) }).then((response) => response.status()),
  );
  const navigation = page.goto(`${cluster.url}/dashboard`).then((response) => response?.status() ?? 0);
  return { statuses: [...(await Promise.all(data)), await navigation] };
}
