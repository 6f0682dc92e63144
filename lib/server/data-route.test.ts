import { SpanKind } from "@opentelemetry/api";
import { NextRequest } from "next/server";
import { describe, expect, it, vi } from "vitest";
import { inSpan } from "@/lib/telemetry/spans";
import { useTelemetry } from "@/lib/testing/telemetry";
import { authorizeDataRequest, forwardWithSession } from "./data-route";
import { SessionCheckUnavailableError } from "./session-reader";
import { withAppEnv } from "@/lib/testing/app-env";
import { sessionFixture } from "@/lib/testing/fixtures";

const APP = "https://app.example";

withAppEnv(APP);

const session = sessionFixture();
const request = (headers: Record<string, string> = { "x-csrf": "1" }, method = "GET") =>
  new NextRequest(`${APP}/api/notes`, { method, headers });

describe("authorizeDataRequest", () => {
  it("hands over the session of a request with the anti-forgery header and a current token", async () => {
    expect(await authorizeDataRequest(request(), async () => session, session.accessTokenExpiresAt - 1)).toBe(session);
  });

  it("serves a token that is due for refresh but still valid: the hint lapsed on its way here", async () => {
    expect(await authorizeDataRequest(request(), async () => session, session.refreshAt)).toBe(session);
  });

  it("refuses a request without the anti-forgery proof before it reads the session", async () => {
    const read = vi.fn(async () => session);
    for (const refused of [request({}), request({ "x-csrf": "1", origin: "https://evil.example" }, "POST")]) {
      const answer = (await authorizeDataRequest(refused, read)) as Response;
      expect(answer.status).toBe(403);
      expect(answer.headers.get("cache-control")).toBe("no-store");
    }
    expect(read).not.toHaveBeenCalled();
  });

  it("answers 401 JSON, never a redirect, without a session (none, unreadable, or ended)", async () => {
    const answer = (await authorizeDataRequest(request(), async () => null)) as Response;
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: "unauthenticated" });
    expect(answer.headers.getSetCookie()).toEqual([]);
  });

  it("clears the session cookie (every chunk), its ID token's cookie and the hint it came with, when it brought no session", async () => {
    const cookie = "__Host-tessera-session.0=a; __Host-tessera-session.1=b; __Host-tessera-fresh=1; theme=dark";
    const answer = (await authorizeDataRequest(request({ "x-csrf": "1", cookie }), async () => null)) as Response;
    expect(answer.status).toBe(401);
    expect(answer.headers.getSetCookie().map((header) => header.split(";")[0])).toEqual([
      "__Host-tessera-session.0=",
      "__Host-tessera-session.1=",
      "__Secure-tessera-id-token=",
      "__Host-tessera-fresh=",
    ]);
  });

  it("takes away a hint that outlived its token and asks for a retry, never refreshing itself", async () => {
    const answer = (await authorizeDataRequest(request(), async () => session, session.accessTokenExpiresAt)) as Response;
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: "refresh_required" });
    expect(answer.headers.getSetCookie()).toEqual(["__Host-tessera-fresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"]);
  });

  it("answers 503 JSON with Retry-After, and keeps every cookie, while the list of ended sessions cannot be read", async () => {
    const cookie = "__Host-tessera-session.0=a; __Host-tessera-fresh=1";
    const unreadable = async () => {
      throw new SessionCheckUnavailableError("session_check_unavailable", "Redis is down");
    };
    const answer = (await authorizeDataRequest(request({ "x-csrf": "1", cookie }), unreadable)) as Response;
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("2");
    expect(await answer.json()).toMatchObject({ error: "service_unavailable" });
    expect(answer.headers.getSetCookie()).toEqual([]);
  });

  it("lets any other failure through", async () => {
    const broken = async () => {
      throw new Error("a bug");
    };
    await expect(authorizeDataRequest(request(), broken)).rejects.toThrow("a bug");
  });
});

describe("forwardWithSession telemetry", () => {
  const telemetry = useTelemetry();

  it("answers in a tessera.data_route span labelled by the route's pattern, inside the request's span, with the session read inside it", async () => {
    // Next.js's own span for the request, which continues the middleware's traceparent.
    const answer = await inSpan("GET /api/notes/[id]", () => forwardWithSession(request(), "/notes/note-123", "/api/notes/[id]"), { kind: SpanKind.SERVER });
    expect(answer.status).toBe(401);
    const outer = telemetry.span("GET /api/notes/[id]");
    const route = telemetry.span("tessera.data_route");
    expect(route.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(route.kind).toBe(SpanKind.INTERNAL);
    expect(route.attributes).toEqual({ "http.route": "/api/notes/[id]", "http.request.method": "GET", "http.response.status_code": 401 });
    expect(JSON.stringify(route.attributes)).not.toContain("note-123");
    expect(telemetry.span("tessera.session.read").parentSpanContext?.spanId).toBe(route.spanContext().spanId);
  });

  it("records a request refused by the anti-forgery check with its status, and counts the refusal", async () => {
    const answer = await forwardWithSession(request({}), "/notes", "/api/notes");
    expect(answer.status).toBe(403);
    expect(telemetry.span("tessera.data_route").attributes["http.response.status_code"]).toBe(403);
    expect(await telemetry.collectMetric("tessera.anti_forgery.refusals")).toEqual([{ attributes: { "tessera.reason": "missing_csrf_header" }, value: 1 }]);
  });
});
