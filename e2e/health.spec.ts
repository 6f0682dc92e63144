/**
 * The load balancers' checks on both processes: alive and ready, without a session, an anti-forgery header or
 * any detail, and without a cookie or a page's policy (the middleware leaves them out).
 */
import { expect, test } from "@playwright/test";
import { E2E } from "../playwright.config";

for (const [server, origin] of [["web", E2E.web], ["api", E2E.api]] as const) {
  test(`${server}: /healthz says alive and /readyz ready, to anyone, and nothing more`, async ({ request }) => {
    for (const [path, body] of [["/healthz", { status: "ok" }], ["/readyz", { status: "ready" }]] as const) {
      const response = await request.get(`${origin}${path}`);
      expect(response.status(), `${server} ${path}`).toBe(200);
      expect(await response.json()).toEqual(body);
      expect(response.headers()["set-cookie"]).toBeUndefined();
      if (server === "web") {
        expect(response.headers()["cache-control"]).toBe("no-store");
        expect(response.headers()["content-security-policy"] ?? "").not.toContain("nonce-");
      }
    }
  });
}
