import { describe, expect, it, vi } from "vitest";
import { useTelemetry } from "@/lib/testing/telemetry";
import {
  countAntiForgeryRefusal,
  countBackChannelLogout,
  countEndedSessionRefusal,
  countRefresh,
  countSignIn,
  recordApiCall,
  recordCookieSize,
  recordIdpCall,
  telemetryOn,
} from "./signals";

/** Every signal once, as the app's code calls them. */
function recordEverySignal(): void {
  countSignIn("ok");
  countRefresh("refreshed");
  recordIdpCall("token", 0.1, 200);
  recordApiCall("/api/notes", "GET", 0.2, 200);
  countEndedSessionRefusal();
  countAntiForgeryRefusal("cross_origin");
  recordCookieSize([{ name: "__Host-tessera-session", value: "v" }]);
  countBackChannelLogout("accepted");
}

describe("signals with telemetry off (no instruments bound)", () => {
  it("does nothing, and throws nothing, for every event", () => {
    expect(telemetryOn()).toBe(false);
    expect(recordEverySignal).not.toThrow();
  });
});

describe("signals with metrics on", () => {
  const telemetry = useTelemetry({ traces: false });

  it("says telemetry is on", () => {
    expect(telemetryOn()).toBe(true);
  });

  it("counts sign-ins by outcome", async () => {
    countSignIn("ok");
    countSignIn("ok");
    countSignIn("check_failed");
    expect(await telemetry.metricDescriptor("tessera.sign_ins")).toMatchObject({ unit: "{sign-in}" });
    expect(await telemetry.collectMetric("tessera.sign_ins")).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.outcome": "ok" }, value: 2 },
        { attributes: { "tessera.outcome": "check_failed" }, value: 1 },
      ]),
    );
  });

  it("counts refreshes by outcome, with error.type only when a class is given", async () => {
    countRefresh("refreshed");
    countRefresh("idp_refused", "invalid_grant");
    countRefresh("idp_unreachable");
    countRefresh("idp_unreachable", "");
    expect(await telemetry.metricDescriptor("tessera.refreshes")).toMatchObject({ unit: "{refresh}" });
    const points = await telemetry.collectMetric("tessera.refreshes");
    expect(points).toHaveLength(3);
    expect(points).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.outcome": "refreshed" }, value: 1 },
        { attributes: { "tessera.outcome": "idp_refused", "error.type": "invalid_grant" }, value: 1 },
        { attributes: { "tessera.outcome": "idp_unreachable" }, value: 2 },
      ]),
    );
  });

  it("records IdP calls in seconds by endpoint, with the status when there was an answer, else why not", async () => {
    recordIdpCall("token", 0.25, 200);
    recordIdpCall("jwks", 1.5, undefined, "timeout");
    expect(await telemetry.metricDescriptor("tessera.idp.request.duration")).toMatchObject({ unit: "s" });
    expect(await telemetry.collectMetric("tessera.idp.request.duration")).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.idp.endpoint": "token", "http.response.status_code": 200 }, value: 1, sum: 0.25 },
        { attributes: { "tessera.idp.endpoint": "jwks", "error.type": "timeout" }, value: 1, sum: 1.5 },
      ]),
    );
  });

  it("records calls to the API in seconds by route, method and status, or the status answered in its place", async () => {
    recordApiCall("/api/notes/[id]", "DELETE", 0.05, 204);
    recordApiCall("/api/notes", "GET", 2, undefined, "504");
    expect(await telemetry.metricDescriptor("tessera.api.client.request.duration")).toMatchObject({ unit: "s" });
    expect(await telemetry.collectMetric("tessera.api.client.request.duration")).toEqual(
      expect.arrayContaining([
        { attributes: { "http.route": "/api/notes/[id]", "http.request.method": "DELETE", "http.response.status_code": 204 }, value: 1, sum: 0.05 },
        { attributes: { "http.route": "/api/notes", "http.request.method": "GET", "error.type": "504" }, value: 1, sum: 2 },
      ]),
    );
  });

  it("counts ended-session refusals, with no attributes", async () => {
    countEndedSessionRefusal();
    countEndedSessionRefusal();
    expect(await telemetry.metricDescriptor("tessera.session.ended_refusals")).toMatchObject({ unit: "{request}" });
    expect(await telemetry.collectMetric("tessera.session.ended_refusals")).toEqual([{ attributes: {}, value: 2 }]);
  });

  it("counts anti-forgery refusals by reason", async () => {
    countAntiForgeryRefusal("missing_csrf_header");
    countAntiForgeryRefusal("cross_origin");
    expect(await telemetry.metricDescriptor("tessera.anti_forgery.refusals")).toMatchObject({ unit: "{request}" });
    expect(await telemetry.collectMetric("tessera.anti_forgery.refusals")).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.reason": "missing_csrf_header" }, value: 1 },
        { attributes: { "tessera.reason": "cross_origin" }, value: 1 },
      ]),
    );
  });

  it("records the session cookie's size in bytes: every chunk's name=value", async () => {
    recordCookieSize([{ name: "a", value: "x".repeat(998) }]);
    recordCookieSize([
      { name: "a.0", value: "x".repeat(3996) },
      { name: "a.1", value: "x".repeat(996) },
    ]);
    expect(await telemetry.metricDescriptor("tessera.session.cookie.size")).toMatchObject({ unit: "By" });
    expect(await telemetry.collectMetric("tessera.session.cookie.size")).toEqual([{ attributes: {}, value: 2, sum: 6000 }]);
  });

  it("counts back-channel logout tokens, accepted or refused by reason", async () => {
    countBackChannelLogout("accepted");
    countBackChannelLogout("refused", "replayed");
    expect(await telemetry.metricDescriptor("tessera.backchannel_logout.tokens")).toMatchObject({ unit: "{token}" });
    expect(await telemetry.collectMetric("tessera.backchannel_logout.tokens")).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.outcome": "accepted" }, value: 1 },
        { attributes: { "tessera.outcome": "refused", "tessera.reason": "replayed" }, value: 1 },
      ]),
    );
  });

  it("is shared by every copy of the module, as Next.js bundles one into the instrumentation hook and each route", async () => {
    vi.resetModules();
    const copy = await import("./signals");
    expect(copy.countSignIn).not.toBe(countSignIn);
    expect(copy.telemetryOn()).toBe(true);
    copy.countSignIn("ok");
    expect(await telemetry.collectMetric("tessera.sign_ins")).toEqual([{ attributes: { "tessera.outcome": "ok" }, value: 1 }]);
  });

  it("records nothing it was not told: an unused instrument has no points", async () => {
    countSignIn("ok");
    expect(await telemetry.collectMetric("tessera.refreshes")).toEqual([]);
  });
});
