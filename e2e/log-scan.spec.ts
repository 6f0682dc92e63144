/**
 * Runs last (project `log-scan`): everything the three servers printed during the suite, and every span and metric
 * the web app and the API exported to the suite's OTLP receiver, must be free of every token and authorization
 * code the IdP issued, of the secrets the stack was configured with, and of sealed cookies. A JWT's signature
 * segment alone is enough to tell, so a token cut short still counts.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { E2E } from "../playwright.config";
import { expectNoTokenIn, serverLog, testHook, tokenNeedles } from "./support";
import { rawExports } from "./telemetry";

interface IssuedTokenLists {
  accessTokens: string[];
  refreshTokens: string[];
  idTokens: string[];
  authorizationCodes: string[];
}

/** The stack's own secrets, and the mark every iron-sealed cookie value begins with. */
const SECRETS = [E2E.authSecret, E2E.clientSecret, E2E.collectorKey.replace(/^Bearer /, ""), process.env.TEST_HOOKS_TOKEN!, "Fe26.2*"];

test("no token, code or secret appears in any server's log or in the exported telemetry", async ({ request }) => {
  const response = await testHook(request, "GET", E2E.idp, "issued");
  expect(response.status()).toBe(200);
  const issued = (await response.json()) as IssuedTokenLists;
  for (const [kind, tokens] of Object.entries(issued)) expect(tokens.length, kind).toBeGreaterThan(0);

  const needles = [...tokenNeedles({ ...issued }), ...SECRETS];
  for (const server of Object.keys(E2E.logs) as (keyof typeof E2E.logs)[]) {
    const log = serverLog(server);
    expect(log.length, `${server} log`).toBeGreaterThan(0);
    expectNoTokenIn(log, needles, `${server} log`);
  }
  for (const signal of ["traces", "metrics"] as const) {
    const exported = rawExports(signal);
    expect(exported.length, `exported ${signal}`).toBeGreaterThan(0);
    expectNoTokenIn(exported, needles, `exported ${signal}`);
  }
  // Exports carried the collector key every time (the receiver notes the first that did not).
  expect(existsSync(path.join(E2E.telemetryDir, "unauthorized")), "an export without the collector key").toBe(false);
});
