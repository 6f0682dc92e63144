import { describe, expect, it } from "vitest";
import { useTelemetry } from "@/lib/testing/telemetry";
import { CSRF_HEADER, CSRF_HEADER_VALUE, checkCsrf, isSameOrigin, refuseForgery, startedByAnotherSite } from "./anti-forgery";

const APP = "https://app.example";
const csrf = { [CSRF_HEADER]: CSRF_HEADER_VALUE };

describe("checkCsrf", () => {
  it("names the header X-CSRF with the value 1", () => {
    expect([CSRF_HEADER, CSRF_HEADER_VALUE]).toEqual(["x-csrf", "1"]);
  });

  it("refuses a GET without the header", () => {
    expect(checkCsrf("GET", new Headers(), APP)).toEqual({ ok: false, reason: "missing_csrf_header" });
  });

  it("refuses a POST without the header, even from the same origin", () => {
    expect(checkCsrf("POST", new Headers({ origin: APP }), APP)).toEqual({ ok: false, reason: "missing_csrf_header" });
  });

  it.each(["0", "true", "", "11"])("refuses the header with the wrong value %j", (value) => {
    expect(checkCsrf("GET", new Headers({ "X-CSRF": value }), APP)).toEqual({ ok: false, reason: "missing_csrf_header" });
  });

  it("accepts a GET with the header and no Origin", () => {
    expect(checkCsrf("GET", new Headers(csrf), APP)).toEqual({ ok: true });
  });

  it("accepts a lower-case method name", () => {
    expect(checkCsrf("get", new Headers(csrf), APP)).toEqual({ ok: true });
  });

  it("refuses a POST with the header but a foreign Origin", () => {
    expect(checkCsrf("POST", new Headers({ ...csrf, origin: "https://evil.example" }), APP)).toEqual({ ok: false, reason: "cross_origin" });
  });

  it("accepts a POST with the header and the same Origin", () => {
    expect(checkCsrf("POST", new Headers({ ...csrf, origin: APP }), APP)).toEqual({ ok: true });
  });

  it("accepts a POST with the header, no Origin and Sec-Fetch-Site: same-origin", () => {
    expect(checkCsrf("POST", new Headers({ ...csrf, "sec-fetch-site": "same-origin" }), APP)).toEqual({ ok: true });
  });

  it("refuses a POST with the header and Sec-Fetch-Site: cross-site", () => {
    expect(checkCsrf("POST", new Headers({ ...csrf, "sec-fetch-site": "cross-site" }), APP)).toEqual({ ok: false, reason: "cross_origin" });
  });

  it("refuses a POST with the header but neither Origin nor Sec-Fetch-Site", () => {
    expect(checkCsrf("POST", new Headers(csrf), APP)).toEqual({ ok: false, reason: "cross_origin" });
  });

  it.each(["PUT", "PATCH", "DELETE"])("requires the origin proof for %s too", (method) => {
    expect(checkCsrf(method, new Headers({ ...csrf, origin: "https://evil.example" }), APP).ok).toBe(false);
    expect(checkCsrf(method, new Headers({ ...csrf, origin: APP }), APP).ok).toBe(true);
  });
});

describe("isSameOrigin", () => {
  it("accepts the app's own Origin", () => {
    expect(isSameOrigin(new Headers({ origin: APP }), APP)).toBe(true);
  });

  it.each(["https://evil.example", "http://app.example", "https://app.example:8443", "https://app.example.evil.example", "null"])("refuses the Origin %j", (origin) => {
    expect(isSameOrigin(new Headers({ origin }), APP)).toBe(false);
  });

  it("refuses Origin: null even with Sec-Fetch-Site: same-origin", () => {
    expect(isSameOrigin(new Headers({ origin: "null", "sec-fetch-site": "same-origin" }), APP)).toBe(false);
  });

  it("lets a foreign Origin win over a claimed Sec-Fetch-Site: same-origin", () => {
    expect(isSameOrigin(new Headers({ origin: "https://evil.example", "sec-fetch-site": "same-origin" }), APP)).toBe(false);
  });

  it("accepts Sec-Fetch-Site: same-origin when there is no Origin", () => {
    expect(isSameOrigin(new Headers({ "sec-fetch-site": "same-origin" }), APP)).toBe(true);
  });

  it.each(["same-site", "cross-site", "none"])("refuses Sec-Fetch-Site: %s when there is no Origin", (site) => {
    expect(isSameOrigin(new Headers({ "sec-fetch-site": site }), APP)).toBe(false);
  });

  it("refuses a request with neither header", () => {
    expect(isSameOrigin(new Headers(), APP)).toBe(false);
  });
});

describe("refuseForgery", () => {
  const APP = "https://app.example";

  it("lets a request with the proof through, and answers one without it with 403 JSON naming the reason", async () => {
    expect(refuseForgery(new Request(`${APP}/api/notes`, { headers: { [CSRF_HEADER]: CSRF_HEADER_VALUE } }), APP)).toBeUndefined();
    const refused = refuseForgery(new Request(`${APP}/api/notes`, { method: "POST", headers: { [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: "https://evil.example" } }), APP);
    expect(refused?.status).toBe(403);
    expect(refused?.headers.get("cache-control")).toBe("no-store");
    expect(await refused?.json()).toMatchObject({ error: "cross_origin" });
  });
});

describe("refuseForgery telemetry", () => {
  const telemetry = useTelemetry({ traces: false });
  const APP = "https://app.example";

  it("counts each refusal by its reason, and nothing for a request with the proof", async () => {
    refuseForgery(new Request(`${APP}/api/notes`, { headers: { [CSRF_HEADER]: CSRF_HEADER_VALUE } }), APP);
    refuseForgery(new Request(`${APP}/api/notes`, { method: "POST", headers: { [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: APP } }), APP);
    expect(await telemetry.collectMetric("tessera.anti_forgery.refusals")).toEqual([]);

    refuseForgery(new Request(`${APP}/api/notes`), APP);
    refuseForgery(new Request(`${APP}/api/notes`, { method: "POST", headers: { origin: APP } }), APP);
    refuseForgery(new Request(`${APP}/api/notes`, { method: "POST", headers: { [CSRF_HEADER]: CSRF_HEADER_VALUE, origin: "https://evil.example" } }), APP);
    expect(await telemetry.collectMetric("tessera.anti_forgery.refusals")).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.reason": "missing_csrf_header" }, value: 2 },
        { attributes: { "tessera.reason": "cross_origin" }, value: 1 },
      ]),
    );
  });

  it("counts nothing when the rule is only consulted, not applied", async () => {
    checkCsrf("POST", new Headers(), APP);
    expect(await telemetry.collectMetric("tessera.anti_forgery.refusals")).toEqual([]);
  });
});

describe("startedByAnotherSite", () => {
  it("is what the browser says: another site, or a sibling subdomain, started the request", () => {
    expect(startedByAnotherSite(new Headers({ "sec-fetch-site": "cross-site" }))).toBe(true);
    expect(startedByAnotherSite(new Headers({ "sec-fetch-site": "same-site" }))).toBe(true);
    expect(startedByAnotherSite(new Headers({ "sec-fetch-site": "same-origin" }))).toBe(false);
    // Typed into the address bar, a bookmark: the user's own navigation.
    expect(startedByAnotherSite(new Headers({ "sec-fetch-site": "none" }))).toBe(false);
    expect(startedByAnotherSite(new Headers())).toBe(false);
  });
});
