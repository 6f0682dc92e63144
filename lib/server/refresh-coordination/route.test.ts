import { SpanKind } from "@opentelemetry/api";
import { describe, expect, it, vi } from "vitest";
import { RefreshError } from "@/lib/idp/token-refresh";
import { COORDINATION_SECRET_HEADER, coordinationSecret, isRefreshErrorCode, sessionToWire } from "@/lib/refresh/coordination-link";
import { idpRefresh } from "@/lib/refresh/idp-refresh";
import { inSpan } from "@/lib/telemetry/spans";
import { sessionFixture } from "@/lib/testing/fixtures";
import { useTelemetry } from "@/lib/testing/telemetry";
import { answerCoordinatedRefresh } from "./route";

const AUTH_SECRET = "route-test-auth-secret-0123456789abcdef012";
const session = sessionFixture();
const successor = sessionFixture({ refreshToken: "refresh-token-2" });

async function post(body: unknown, secret?: string): Promise<Request> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  headers[COORDINATION_SECRET_HEADER] = secret ?? (await coordinationSecret(AUTH_SECRET));
  return new Request("http://127.0.0.1:3000/internal/refresh", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

describe("answerCoordinatedRefresh", () => {
  it("answers the coordinated successor", async () => {
    const coordinate = vi.fn(async () => successor);
    const answer = await answerCoordinatedRefresh(await post(sessionToWire(session)), { authSecret: AUTH_SECRET, coordinate });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual(sessionToWire(successor));
    expect(coordinate).toHaveBeenCalledWith(session);
  });

  it("is a 404, reading nothing, for a caller without the secret, with another app's, or with no coordination", async () => {
    const coordinate = vi.fn(async () => successor);
    for (const secret of ["", "wrong", await coordinationSecret("another-auth-secret-0123456789abcdef0123")]) {
      const answer = await answerCoordinatedRefresh(await post(sessionToWire(session), secret), { authSecret: AUTH_SECRET, coordinate });
      expect(answer.status).toBe(404);
    }
    const off = await answerCoordinatedRefresh(await post(sessionToWire(session)), { authSecret: AUTH_SECRET, coordinate: undefined });
    expect(off.status).toBe(404);
    expect(coordinate).not.toHaveBeenCalled();
  });

  it("refuses a body that holds no session", async () => {
    const coordinate = vi.fn(async () => successor);
    for (const body of [{}, "null", '"text"', "{not json", "", { id: "x" }]) {
      const answer = await answerCoordinatedRefresh(await post(body), { authSecret: AUTH_SECRET, coordinate });
      expect(answer.status).toBe(400);
      // Not a refresh outcome: the middleware keeps the session.
      expect(isRefreshErrorCode(((await answer.json()) as { error: unknown }).error)).toBe(false);
    }
    expect(coordinate).not.toHaveBeenCalled();
  });

  it("answers a refusal with its code (409), and a transient failure with 503", async () => {
    for (const [code, status] of [["invalid_grant", 409], ["refresh_token_spent", 409], ["idp_unreachable", 503], ["coordination_unavailable", 503]] as const) {
      const coordinate = vi.fn(async () => Promise.reject(new RefreshError(code, "why")));
      const answer = await answerCoordinatedRefresh(await post(sessionToWire(session)), { authSecret: AUTH_SECRET, coordinate });
      expect(answer.status).toBe(status);
      expect(await answer.json()).toEqual({ error: code, message: "why" });
    }
  });
});

describe("answerCoordinatedRefresh telemetry", () => {
  const telemetry = useTelemetry({ metrics: false });

  it("traces the coordination inside the request's span, and the leader's refresh inside it", async () => {
    // Next.js's own span for the request, which continues the traceparent the middleware's link sent.
    const answer = await inSpan("POST /internal/refresh", async () => answerCoordinatedRefresh(await post(sessionToWire(session)), { authSecret: AUTH_SECRET, coordinate: idpRefresh(async () => successor) }), {
      kind: SpanKind.SERVER,
    });
    expect(answer.status).toBe(200);
    const request = telemetry.span("POST /internal/refresh");
    const coordination = telemetry.span("tessera.refresh.coordination");
    expect(coordination.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(telemetry.span("tessera.refresh").parentSpanContext?.spanId).toBe(coordination.spanContext().spanId);
  });

  it("ends the coordination's span as failed with the refresh outcome's code", async () => {
    const coordinate = async () => Promise.reject(new RefreshError("invalid_grant", "why"));
    expect((await answerCoordinatedRefresh(await post(sessionToWire(session)), { authSecret: AUTH_SECRET, coordinate })).status).toBe(409);
    expect(telemetry.span("tessera.refresh.coordination").attributes["error.type"]).toBe("invalid_grant");
  });
});
