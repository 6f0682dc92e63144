/**
 * Runs last (project `log-scan`): everything the three servers printed during the suite must be free of every
 * token the IdP issued. A JWT's signature segment alone is enough to tell, so a token cut short still counts.
 */
import { expect, test } from "@playwright/test";
import { E2E } from "../playwright.config";
import { expectNoTokenIn, serverLog, testHook, tokenNeedles } from "./support";

interface IssuedTokenLists {
  accessTokens: string[];
  refreshTokens: string[];
  idTokens: string[];
}

test("no access, refresh or ID token issued during the run appears in any server's log", async ({ request }) => {
  const response = await testHook(request, "GET", E2E.idp, "issued");
  expect(response.status()).toBe(200);
  const issued = (await response.json()) as IssuedTokenLists;
  for (const [kind, tokens] of Object.entries(issued)) expect(tokens.length, kind).toBeGreaterThan(0);

  const needles = tokenNeedles({ ...issued });
  for (const server of Object.keys(E2E.logs) as (keyof typeof E2E.logs)[]) {
    const log = serverLog(server);
    expect(log.length, `${server} log`).toBeGreaterThan(0);
    expectNoTokenIn(log, needles, `${server} log`);
  }
});
