import { SpanStatusCode } from "@opentelemetry/api";
import { describe, expect, it, vi } from "vitest";
import { RefreshError, type RefreshErrorCode } from "@/lib/idp/token-refresh";
import type { Session } from "@/lib/session/session";
import { sessionFixture } from "@/lib/testing/fixtures";
import { useTelemetry } from "@/lib/testing/telemetry";
import { idpRefresh, refreshOutcome } from "./idp-refresh";

const session = sessionFixture();
const successor = sessionFixture({ accessToken: "access-token-2", refreshToken: "refresh-token-2" });
const REFRESHES = "tessera.refreshes";

describe("idpRefresh with telemetry off", () => {
  it("hands the session to the refresh and its successor or its error back", async () => {
    const refresh = vi.fn(async (_session: Session) => successor);
    expect(await idpRefresh(refresh)(session)).toBe(successor);
    expect(refresh).toHaveBeenCalledExactlyOnceWith(session);
    const refused = new RefreshError("invalid_grant", "refused");
    await expect(idpRefresh(async () => Promise.reject(refused))(session)).rejects.toBe(refused);
  });
});

describe("idpRefresh with telemetry on", () => {
  const telemetry = useTelemetry();

  it("counts a successful refresh as refreshed, in a tessera.refresh span that says so", async () => {
    expect(await idpRefresh(async () => successor)(session)).toBe(successor);
    expect(await telemetry.collectMetric(REFRESHES)).toEqual([{ attributes: { "tessera.outcome": "refreshed" }, value: 1 }]);
    const span = telemetry.span("tessera.refresh");
    expect(span.attributes).toEqual({ "tessera.outcome": "refreshed" });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("counts a refresh token the IdP refused as idp_refused, with the refusal's class, and rethrows it", async () => {
    const refused = new RefreshError("invalid_grant", "The IdP refused the refresh token: it said code=SECRET");
    await expect(idpRefresh(async () => Promise.reject(refused))(session)).rejects.toBe(refused);
    expect(await telemetry.collectMetric(REFRESHES)).toEqual([{ attributes: { "tessera.outcome": "idp_refused", "error.type": "invalid_grant" }, value: 1 }]);
    const span = telemetry.span("tessera.refresh");
    expect(span.attributes).toEqual({ "tessera.outcome": "idp_refused", "error.type": "invalid_grant" });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
  });

  it.each(["idp_unreachable", "coordination_unavailable"] as const)("counts %s as itself, without an error class", async (code) => {
    await expect(idpRefresh(async () => Promise.reject(new RefreshError(code, "why")))(session)).rejects.toMatchObject({ code });
    expect(await telemetry.collectMetric(REFRESHES)).toEqual([{ attributes: { "tessera.outcome": code }, value: 1 }]);
    expect(telemetry.span("tessera.refresh").attributes["tessera.outcome"]).toBe(code);
  });

  it("counts an error that is no RefreshError as a refusal of an unusable answer", async () => {
    const bug = new TypeError("Cannot read properties of undefined");
    await expect(idpRefresh(async () => Promise.reject(bug))(session)).rejects.toBe(bug);
    expect(await telemetry.collectMetric(REFRESHES)).toEqual([{ attributes: { "tessera.outcome": "idp_refused", "error.type": "invalid_response" }, value: 1 }]);
  });

  it("counts each refresh once", async () => {
    const refresh = idpRefresh(async () => successor);
    await Promise.all([refresh(session), refresh(session), refresh(session)]);
    expect(await telemetry.total(REFRESHES)).toBe(3);
    expect(telemetry.finishedSpans()).toHaveLength(3);
  });
});

describe("refreshOutcome", () => {
  it.each<[RefreshErrorCode, ReturnType<typeof refreshOutcome>]>([
    ["invalid_grant", { outcome: "idp_refused", errorClass: "invalid_grant" }],
    ["refresh_refused", { outcome: "idp_refused", errorClass: "refresh_refused" }],
    ["invalid_response", { outcome: "idp_refused", errorClass: "invalid_response" }],
    ["subject_mismatch", { outcome: "idp_refused", errorClass: "subject_mismatch" }],
    ["idp_unreachable", { outcome: "idp_unreachable" }],
    ["coordination_unavailable", { outcome: "coordination_unavailable" }],
  ])("is %s → %j", (code, expected) => {
    expect(refreshOutcome(new RefreshError(code, "why"))).toEqual(expected);
  });

  it("takes anything else for an unusable answer", () => {
    expect(refreshOutcome(new Error("x"))).toEqual({ outcome: "idp_refused", errorClass: "invalid_response" });
    expect(refreshOutcome({ code: "idp_unreachable" })).toEqual({ outcome: "idp_refused", errorClass: "invalid_response" });
  });
});
