import { SpanKind } from "@opentelemetry/api";
import { describe, expect, it, vi } from "vitest";
import { RefreshError } from "@/lib/idp/token-refresh";
import { sessionFixture } from "@/lib/testing/fixtures";
import { useTelemetry } from "@/lib/testing/telemetry";
import { COORDINATION_SECRET_HEADER, coordinatedRefresh, coordinationDeadlines, coordinationSecret, sessionFromWire, sessionToWire } from "./coordination-link";

const AUTH_SECRET = "link-test-auth-secret-0123456789abcdef0123";
const session = sessionFixture();
const successor = sessionFixture({ accessToken: "access-token-2", refreshToken: "refresh-token-2" });

function link(answer: () => Promise<Response>) {
  const send = vi.fn(async (_url: URL | RequestInfo, _init?: RequestInit) => answer());
  return { send, refresh: coordinatedRefresh({ internalUrl: new URL("http://127.0.0.1:3000"), authSecret: AUTH_SECRET, timeoutMs: 1_000, fetch: send as typeof fetch }) };
}

describe("coordinatedRefresh", () => {
  it("posts the session to this instance's loopback route with the derived secret, and reads back the successor", async () => {
    const { send, refresh } = link(async () => Response.json(sessionToWire(successor)));
    expect(await refresh(session)).toEqual(successor);
    const [url, init] = send.mock.calls[0]!;
    expect(String(url)).toBe("http://127.0.0.1:3000/internal/refresh");
    expect(init?.method).toBe("POST");
    const headers = new Headers(init?.headers);
    expect(headers.get(COORDINATION_SECRET_HEADER)).toBe(await coordinationSecret(AUTH_SECRET));
    expect(headers.get(COORDINATION_SECRET_HEADER)).not.toContain(AUTH_SECRET);
    expect(sessionFromWire(JSON.parse(String(init?.body)))).toEqual(session);
  });

  it("hands on the route's refresh outcome as the same RefreshError code", async () => {
    for (const code of ["invalid_grant", "refresh_token_spent", "session_ended", "idp_unreachable"] as const) {
      const { refresh } = link(async () => Response.json({ error: code, message: "why" }, { status: 409 }));
      await expect(refresh(session)).rejects.toMatchObject({ name: "RefreshError", code, message: "why" });
    }
  });

  it("is coordination_unavailable when the route cannot be reached or answers something else", async () => {
    const answers = [
      async () => Promise.reject(new TypeError("fetch failed")),
      async () => new Response("<html>", { status: 500 }),
      async () => Response.json({ error: "not_found" }, { status: 404 }),
      async () => Response.json({ nothing: true }),
    ];
    for (const answer of answers) {
      const { refresh } = link(answer);
      const failure = await refresh(session).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RefreshError);
      expect(failure).toMatchObject({ code: "coordination_unavailable" });
    }
  });
});

describe("coordinatedRefresh telemetry", () => {
  const telemetry = useTelemetry();
  const refreshes = () => telemetry.collectMetric("tessera.refreshes");

  it("counts coordination_unavailable for each failure of its own: the route unreachable, or an answer without an outcome", async () => {
    for (const answer of [async () => Promise.reject(new TypeError("fetch failed")), async () => new Response("<html>", { status: 500 }), async () => Response.json({ nothing: true })]) {
      await link(answer).refresh(session).catch(() => {});
    }
    expect(await refreshes()).toEqual([{ attributes: { "tessera.outcome": "coordination_unavailable" }, value: 3 }]);
  });

  it("counts nothing for an outcome the route relayed, which the coordination has counted itself, nor for a success", async () => {
    for (const code of ["invalid_grant", "refresh_token_spent", "idp_unreachable", "coordination_unavailable"] as const) {
      await expect(link(async () => Response.json({ error: code, message: "why" }, { status: 409 })).refresh(session)).rejects.toMatchObject({ code });
    }
    await link(async () => Response.json(sessionToWire(successor))).refresh(session);
    expect(await refreshes()).toEqual([]);
  });

  it("traces the hop as a client span, and hands its trace to the route in traceparent", async () => {
    const { send, refresh } = link(async () => Response.json(sessionToWire(successor)));
    await refresh(session);
    const span = telemetry.span("tessera.refresh.coordinate");
    expect(span.kind).toBe(SpanKind.CLIENT);
    const headers = new Headers(send.mock.calls[0]?.[1]?.headers);
    expect(headers.get("traceparent")).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(headers.get(COORDINATION_SECRET_HEADER)).toBe(await coordinationSecret(AUTH_SECRET));
  });
});

describe("coordinationDeadlines", () => {
  it("outlasts a leader's IdP calls, and the middleware outlasts a follower that then leads", () => {
    const { leaseMs, followMs, requestMs } = coordinationDeadlines(5_000);
    expect(leaseMs).toBeGreaterThan(2 * 5_000);
    expect(followMs).toBeGreaterThan(leaseMs);
    expect(requestMs).toBeGreaterThanOrEqual(followMs + leaseMs);
  });
});
