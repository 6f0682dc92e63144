import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NotesStore } from "../notes-store";
import { countTokenAccepted, countTokenRefused, measuring } from "../telemetry/signals";
import { tracing, VERIFY_TOKEN_SPAN } from "../telemetry/tracing";
import { createTestApi, type TestApiOptions } from "../testing/test-api";
import { createSigningKey, createTestIssuer, nowSeconds, type TestIssuer } from "../testing/test-issuer";
import { everyRecordedString, startTestTelemetry, type TestTelemetry } from "../testing/test-telemetry";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const serverSpans = (spans: ReadableSpan[]) => spans.filter((span) => span.kind === SpanKind.SERVER);

describe("request telemetry while off", () => {
  it("adds no span, even with a tracer provider registered globally, and counting does not throw", async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      expect([tracing(), measuring()]).toEqual([false, false]);
      const api = createTestApi(issuer, { cacheVerifications: true });
      const token = await issuer.mint();
      expect((await api.request("GET", "/me", { token, headers: { traceparent: TRACEPARENT } })).status).toBe(200);
      expect((await api.request("GET", "/me", { token: "nope" })).status).toBe(401);
      expect(() => (countTokenAccepted(), countTokenRefused("expired"))).not.toThrow();
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      trace.disable();
    }
  });
});

describe("request telemetry", () => {
  let telemetry: TestTelemetry;
  beforeEach(() => {
    telemetry = startTestTelemetry();
  });
  afterEach(() => telemetry.stop());

  const setup = (overrides: TestApiOptions = {}) => createTestApi(issuer, { cacheVerifications: true, ...overrides });

  it("makes one SERVER span per request, a child of the caller's traceparent, named for the route", async () => {
    const api = setup();
    const token = await issuer.mint();
    expect((await api.request("GET", "/me", { token, headers: { traceparent: TRACEPARENT } })).status).toBe(200);

    const spans = await telemetry.spans();
    const [server] = serverSpans(spans);
    expect(serverSpans(spans)).toHaveLength(1);
    expect(server?.name).toBe("GET /me");
    expect(server?.spanContext().traceId).toBe(TRACE_ID);
    expect(server?.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(server?.status.code).toBe(SpanStatusCode.UNSET);
    expect(server?.attributes).toEqual({ "http.request.method": "GET", "http.route": "/me", "http.response.status_code": 200 });

    const verification = spans.find((span) => span.name === VERIFY_TOKEN_SPAN);
    expect(verification?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(verification?.spanContext().traceId).toBe(TRACE_ID);
    expect(verification?.attributes).toEqual({ "tessera.cache.result": "miss" });
  });

  it("starts a trace of its own without a traceparent", async () => {
    await setup().request("GET", "/healthz");
    const [server] = serverSpans(await telemetry.spans());
    expect(server?.name).toBe("GET /healthz");
    expect(server?.parentSpanContext).toBeUndefined();
  });

  it("names the route by its pattern, never the path, and an unmatched request by its method alone", async () => {
    const api = setup();
    const token = await issuer.mint();
    expect((await api.request("DELETE", "/notes/note-4711", { token })).status).toBe(404);
    expect((await api.request("GET", "/admin/secret-path?key=value", { token })).status).toBe(404);
    expect((await api.request("PROPFIND", "/notes", { token })).status).toBe(404);

    const servers = serverSpans(await telemetry.spans());
    expect(servers.map((span) => [span.name, span.attributes["http.route"]])).toEqual([
      ["DELETE /notes/:id", "/notes/:id"],
      ["GET", undefined],
      ["_OTHER", undefined],
    ]);
    const strings = await everyRecordedString(telemetry);
    for (const fragment of ["note-4711", "admin", "secret-path", "key=value", "PROPFIND"]) {
      expect(strings.filter((value) => value.includes(fragment))).toEqual([]);
    }
  });

  it("records each request's duration by method, route and status", async () => {
    const api = setup();
    const token = await issuer.mint();
    await api.request("GET", "/notes", { token });
    await api.request("GET", "/notes", { token });
    await api.request("GET", "/notes");
    await api.request("GET", "/nowhere");
    expect(await telemetry.points("http.server.request.duration")).toEqual([
      { attributes: { "http.request.method": "GET", "http.route": "/notes", "http.response.status_code": 200 }, value: 2 },
      { attributes: { "http.request.method": "GET", "http.route": "/notes", "http.response.status_code": 401 }, value: 1 },
      { attributes: { "http.request.method": "GET", "http.response.status_code": 404 }, value: 1 },
    ]);
  });

  it("marks a 5xx as an error without recording the exception, whose message may quote input", async () => {
    const failing: NotesStore = {
      list: () => {
        throw new Error("SQLITE_CORRUPT near alice's note");
      },
      create: () => {
        throw new Error("unused");
      },
      delete: () => false,
    };
    const api = setup({ notes: failing, readiness: () => Promise.reject(new Error("discovery down")) });
    const token = await issuer.mint();
    expect((await api.request("GET", "/notes", { token })).status).toBe(500);
    expect((await api.request("GET", "/readyz")).status).toBe(503);
    expect((await api.request("GET", "/healthz")).status).toBe(200);

    const servers = serverSpans(await telemetry.spans());
    expect(servers.map((span) => [span.name, span.attributes["http.response.status_code"], span.status])).toEqual([
      ["GET /notes", 500, { code: SpanStatusCode.ERROR }],
      ["GET /readyz", 503, { code: SpanStatusCode.ERROR }],
      ["GET /healthz", 200, { code: SpanStatusCode.UNSET }],
    ]);
    expect(servers.flatMap((span) => span.events)).toEqual([]);
    expect((await everyRecordedString(telemetry)).filter((value) => /SQLITE|alice|discovery/.test(value))).toEqual([]);
  });

  it("counts tokens accepted and refused, by reason, and marks a refused request's span", async () => {
    const api = setup();
    const good = await issuer.mint();
    const expired = await issuer.mint({ claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 300 } });
    const foreign = await issuer.mint({ key: await createSigningKey("ES256", "not-the-issuers") });
    const elsewhere = await issuer.mint({ claims: { aud: "https://other-api.test" } });

    await api.request("GET", "/me", { token: good });
    await api.request("GET", "/me");
    await api.request("GET", "/me", { token: expired });
    await api.request("GET", "/me", { token: foreign });
    await api.request("GET", "/notes", { token: elsewhere });
    await api.request("GET", "/me", { headers: { Authorization: `Bearer ${good}, Bearer ${good}` } });

    expect(await telemetry.points("tessera.api.token.verifications")).toEqual([
      { attributes: { "tessera.outcome": "accepted" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "missing_token" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "expired" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "unknown_key" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "wrong_audience" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "malformed_authorization" }, value: 1 },
    ]);
    const servers = serverSpans(await telemetry.spans());
    expect(servers.map((span) => [span.attributes["tessera.outcome"], span.attributes["tessera.reason"]])).toEqual([
      [undefined, undefined],
      ["refused", "missing_token"],
      ["refused", "expired"],
      ["refused", "unknown_key"],
      ["refused", "wrong_audience"],
      ["refused", "malformed_authorization"],
    ]);
    const failed = (await telemetry.spans()).filter((span) => span.name === VERIFY_TOKEN_SPAN && span.status.code === SpanStatusCode.ERROR);
    expect(failed.map((span) => span.status.message)).toEqual(["expired", "unknown_key", "wrong_audience"]);
  });

  it("counts the verification cache's hits and misses, and puts the answer on the verification's span", async () => {
    const api = setup();
    const token = await issuer.mint();
    await api.request("GET", "/me", { token });
    await api.request("GET", "/me", { token });
    await api.request("GET", "/notes", { token });
    await api.request("GET", "/me", { token: await issuer.mint() });

    expect(await telemetry.points("tessera.api.verification_cache.lookups")).toEqual([
      { attributes: { "tessera.cache.result": "miss" }, value: 2 },
      { attributes: { "tessera.cache.result": "hit" }, value: 2 },
    ]);
    const verifications = (await telemetry.spans()).filter((span) => span.name === VERIFY_TOKEN_SPAN);
    expect(verifications.map((span) => span.attributes["tessera.cache.result"])).toEqual(["miss", "hit", "hit", "miss"]);
  });

  it("counts a token refused for being on the revocation list, and the store being down", async () => {
    const api = setup();
    const token = await issuer.mint({ claims: { sid: "session-ended" } });
    expect((await api.request("POST", "/revocations", { token })).status).toBe(204);
    expect((await api.request("GET", "/me", { token })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: await issuer.mint({ claims: { sid: "session-ended", iat: nowSeconds() - 5 } }) })).status).toBe(401);

    expect(await telemetry.total("tessera.api.revocation.hits")).toBe(2);
    expect(await telemetry.total("tessera.api.token.verifications", { "tessera.reason": "revoked" })).toBe(2);
    expect(await telemetry.total("tessera.api.token.verifications", { "tessera.outcome": "accepted" })).toBe(1);

    const unreachable = () => Promise.reject(new Error("redis down"));
    const down = setup({ revocations: { isRevoked: unreachable, revoke: unreachable, revokeOnce: unreachable } });
    expect((await down.request("GET", "/me", { token: await issuer.mint() })).status).toBe(503);
    expect(await telemetry.total("tessera.api.token.verifications", { "tessera.reason": "revocation_unavailable" })).toBe(1);
    expect(await telemetry.total("tessera.api.revocation.hits")).toBe(2);
  });

  it("counts back-channel logout tokens accepted and refused, by reason", async () => {
    const api = setup();
    const logoutToken = await issuer.mintLogoutToken();
    expect((await api.postLogoutToken(logoutToken)).status).toBe(200);
    expect((await api.postLogoutToken(logoutToken)).status).toBe(400);
    expect((await api.postLogoutToken(await issuer.mintLogoutToken({ key: await createSigningKey("ES256", "stranger") }))).status).toBe(400);
    expect((await api.postLogoutToken(await issuer.mintLogoutToken({ claims: { sid: undefined, sub: undefined } }))).status).toBe(400);
    expect((await api.request("POST", "/revocations/logout-token", { headers: { "Content-Type": "application/json" }, body: "{}" })).status).toBe(400);

    expect(await telemetry.points("tessera.api.backchannel_logout.tokens")).toEqual([
      { attributes: { "tessera.outcome": "accepted" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "replayed" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "unknown_key" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "missing_sid_and_sub" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "invalid_request" }, value: 1 },
    ]);
    const servers = serverSpans(await telemetry.spans());
    expect(servers.map((span) => [span.name, span.attributes["tessera.reason"]])).toEqual([
      ["POST /revocations/logout-token", undefined],
      ["POST /revocations/logout-token", "replayed"],
      ["POST /revocations/logout-token", "unknown_key"],
      ["POST /revocations/logout-token", "missing_sid_and_sub"],
      ["POST /revocations/logout-token", "invalid_request"],
    ]);
  });

  it("never records a token, a subject, a session, a jti or a header value, in any span or metric", async () => {
    const api = setup();
    const jti = "jti-never-recorded-5c1d";
    const token = await issuer.mint({ claims: { sub: "subject-never-recorded", sid: "session-never-recorded", jti } });
    const expired = await issuer.mint({ claims: { sub: "subject-never-recorded", iat: nowSeconds() - 600, exp: nowSeconds() - 300 } });
    const logoutToken = await issuer.mintLogoutToken({ claims: { sid: "session-never-recorded", jti: "logout-jti-never-recorded" } });
    const headers = { traceparent: TRACEPARENT, cookie: "session=cookie-never-recorded", "x-forwarded-for": "203.0.113.99" };

    await api.request("GET", "/me?q=query-never-recorded", { token, headers });
    await api.request("POST", "/notes", { token, headers, body: JSON.stringify({ text: "note-never-recorded" }) });
    await api.request("GET", "/notes", { token: expired, headers });
    await api.request("GET", "/me", { token: `${token}x`, headers });
    await api.postLogoutToken(logoutToken);
    await api.request("GET", "/me", { token, headers });

    const strings = await everyRecordedString(telemetry);
    expect(strings.length).toBeGreaterThan(20);
    const secrets = [token, expired, logoutToken, ...[token, expired, logoutToken].flatMap((value) => value.split("."))];
    for (const secret of [...secrets, "never-recorded", "203.0.113.99", "Bearer"]) {
      expect(strings.filter((value) => value.includes(secret))).toEqual([]);
    }
  });
});
