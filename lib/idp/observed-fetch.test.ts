import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTelemetry } from "@/lib/testing/telemetry";
import { authJsEndpoint, observedIdpFetch } from "./observed-fetch";

const TOKEN_URL = "https://idp.example/oauth/token";
const DURATION = "tessera.idp.request.duration";

afterEach(() => vi.restoreAllMocks());

/** A fetch that answers `status` and moves a stubbed `performance.now` on by `ms`, as if the IdP took that long. */
function idpTaking(ms: number, status = 200) {
  let now = 10_000;
  vi.spyOn(performance, "now").mockImplementation(() => now);
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) => {
    now += ms;
    return new Response("{}", { status });
  });
}

/** A fetch that fails as `error` after `ms`. */
function idpFailing(error: unknown, ms = 0) {
  let now = 10_000;
  vi.spyOn(performance, "now").mockImplementation(() => now);
  return vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit): Promise<Response> => {
    now += ms;
    throw error;
  });
}

describe("observedIdpFetch with telemetry off", () => {
  it("hands the call straight to the injected fetch, with the same arguments, and its answer back as it is", async () => {
    const answer = Promise.resolve(new Response("{}"));
    const fetchImpl = vi.fn((_input: RequestInfo | URL, _init?: RequestInit) => answer);
    const init = { method: "POST", body: "grant_type=refresh_token" };
    const observed = observedIdpFetch("token", fetchImpl);
    expect(observed(TOKEN_URL, init)).toBe(answer);
    expect(fetchImpl).toHaveBeenCalledExactlyOnceWith(TOKEN_URL, init);
  });

  it("does not even look at the URL to name the endpoint", async () => {
    const endpoint = vi.fn(authJsEndpoint);
    await observedIdpFetch(endpoint, async () => new Response("{}"))(TOKEN_URL);
    expect(endpoint).not.toHaveBeenCalled();
  });
});

describe("observedIdpFetch with telemetry on", () => {
  const telemetry = useTelemetry();

  it("passes the call and its answer through", async () => {
    const fetchImpl = idpTaking(5);
    const init = { method: "POST", body: "grant_type=refresh_token" };
    const response = await observedIdpFetch("token", fetchImpl)(TOKEN_URL, init);
    expect(response.status).toBe(200);
    expect(fetchImpl).toHaveBeenCalledExactlyOnceWith(TOKEN_URL, init);
  });

  it("records how long the call took, in seconds, by endpoint and status", async () => {
    await observedIdpFetch("token", idpTaking(250, 400))(TOKEN_URL);
    expect(await telemetry.collectMetric(DURATION)).toEqual([
      { attributes: { "tessera.idp.endpoint": "token", "http.response.status_code": 400 }, value: 1, sum: 0.25 },
    ]);
  });

  it("records an IdP that could not be reached as unreachable, without a status, and rethrows its error", async () => {
    const failure = new TypeError("fetch failed");
    await expect(observedIdpFetch("jwks", idpFailing(failure, 40))("https://idp.example/jwks")).rejects.toBe(failure);
    expect(await telemetry.collectMetric(DURATION)).toEqual([{ attributes: { "tessera.idp.endpoint": "jwks", "error.type": "unreachable" }, value: 1, sum: 0.04 }]);
  });

  it("records a call that ran out of time as timeout, and an abort for any other reason as unreachable", async () => {
    const timedOut = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    await expect(observedIdpFetch("discovery", idpFailing(timedOut))("https://idp.example/.well-known/openid-configuration")).rejects.toBe(timedOut);
    const aborted = new DOMException("aborted", "AbortError");
    await expect(observedIdpFetch("revocation", idpFailing(aborted))("https://idp.example/revoke")).rejects.toBe(aborted);
    expect(await telemetry.collectMetric(DURATION)).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.idp.endpoint": "discovery", "error.type": "timeout" }, value: 1, sum: 0 },
        { attributes: { "tessera.idp.endpoint": "revocation", "error.type": "unreachable" }, value: 1, sum: 0 },
      ]),
    );
  });

  it("traces the call as a client span named by the endpoint, with its status", async () => {
    await observedIdpFetch("token", idpTaking(5, 200))(`${TOKEN_URL}?client_id=SECRET`);
    const span = telemetry.span("idp token");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({ "tessera.idp.endpoint": "token", "http.response.status_code": 200 });
    expect(JSON.stringify(span.attributes)).not.toContain("SECRET");
  });

  it("ends the span of a failed call as an error", async () => {
    await expect(observedIdpFetch("token", idpFailing(new TypeError("fetch failed")))(TOKEN_URL)).rejects.toThrow("fetch failed");
    const span = telemetry.span("idp token");
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes["error.type"]).toBe("TypeError");
    expect(span.attributes).not.toHaveProperty("http.response.status_code");
  });

  it("names the endpoint from the URL, whether it is given as a string, a URL or a Request", async () => {
    const fetchImpl = idpTaking(1);
    const observed = observedIdpFetch(authJsEndpoint, fetchImpl);
    await observed("https://idp.example/realms/r/.well-known/openid-configuration");
    await observed(new URL(TOKEN_URL));
    await observed(new Request(TOKEN_URL, { method: "POST" }));
    expect(telemetry.finishedSpans().map((span) => span.name)).toEqual(["idp discovery", "idp token", "idp token"]);
    expect(await telemetry.total(DURATION, { "tessera.idp.endpoint": "token" })).toBe(2);
  });
});

describe("observedIdpFetch with only one signal on", () => {
  describe("metrics only", () => {
    const telemetry = useTelemetry({ traces: false });

    it("records the duration", async () => {
      await observedIdpFetch("token", idpTaking(10))(TOKEN_URL);
      expect(await telemetry.total(DURATION, { "tessera.idp.endpoint": "token" })).toBe(1);
    });
  });

  describe("traces only", () => {
    const telemetry = useTelemetry({ metrics: false });

    it("traces the call", async () => {
      await observedIdpFetch("jwks", idpTaking(10))("https://idp.example/jwks");
      expect(telemetry.span("idp jwks").attributes["tessera.idp.endpoint"]).toBe("jwks");
    });
  });
});

describe("authJsEndpoint", () => {
  it.each([
    ["https://idp.example/.well-known/openid-configuration", "discovery"],
    ["https://idp.example/realms/tessera/.well-known/openid-configuration", "discovery"],
    ["https://idp.example/oauth/token", "token"],
    ["https://idp.example/token?x=/.well-known/openid-configuration", "token"],
  ])("names %s %s", (url, endpoint) => {
    expect(authJsEndpoint(new URL(url))).toBe(endpoint);
  });
});
