import { SpanKind } from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { inSpan } from "@/lib/telemetry/spans";
import { useTelemetry } from "@/lib/testing/telemetry";
import { forwardToApi, type ApiProxyOptions } from "./proxy";

const API_URL = new URL("https://api.example");
const TOKEN = "access-token-abc";
const APP = "https://app.example";

interface Call {
  url: string;
  init: RequestInit;
  headers: Headers;
  body: string | undefined;
}

/** A fetch that records each call and answers with `respond()`. */
function recordingFetch(respond: (call: Call) => Response | Promise<Response> = () => Response.json({ ok: true })) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const body = init.body === undefined || init.body === null ? undefined : new TextDecoder().decode(init.body as Uint8Array);
    const call = { url: String(input), init, headers: new Headers(init.headers), body };
    calls.push(call);
    return respond(call);
  };
  return { calls, fetch: fetchImpl as typeof fetch };
}

function options(fetchImpl: typeof fetch, extra: Partial<ApiProxyOptions> = {}): ApiProxyOptions {
  return { apiUrl: API_URL, timeoutMs: 1000, fetch: fetchImpl, route: "/api/notes", ...extra };
}

/** A browser request to the BFF, carrying everything a browser would send. */
function browserRequest(method: string, body?: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`${APP}/api/notes`, {
    method,
    body,
    headers: {
      cookie: "__Host-tessera-session=sealed; theme=dark",
      authorization: "Basic c3RvbGVuOmNyZWRz",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "http",
      connection: "keep-alive",
      origin: APP,
      "x-csrf": "1",
      "user-agent": "Browser/1.0",
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
  });
}

/** A request body streamed in chunks, with no content-length. */
function streamedRequest(totalBytes: number, chunkBytes = 1024): Request {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const size = Math.min(chunkBytes, totalBytes - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return new Request(`${APP}/api/notes`, { method: "POST", body: stream, duplex: "half", headers: { "content-type": "application/json" } } as RequestInit);
}

/** A response whose body is `bytes` bytes long, streamed without content-length. */
function bigResponse(bytes: number): Response {
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes).fill(0x7b));
        controller.close();
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
}

async function expectJsonError(response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await response.json()).toMatchObject({ error });
}

describe("forwardToApi request", () => {
  it("calls the route under API_URL, keeping the path API_URL has", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes?limit=5", TOKEN, options(fetch, { apiUrl: new URL("https://api.example:8443/kept/") }));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("https://api.example:8443/kept/notes?limit=5");
  });

  it("sends the access token as a Bearer token", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
  });

  it("forwards only authorization and accept on a GET", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect([...(calls[0]?.headers.keys() ?? [])].sort()).toEqual(["accept", "authorization"]);
  });

  it("forwards only authorization, accept and content-type on a POST", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("POST", JSON.stringify({ text: "hi" })), "/notes", TOKEN, options(fetch));
    const headers = calls[0]?.headers;
    expect([...(headers?.keys() ?? [])].sort()).toEqual(["accept", "authorization", "content-type"]);
    expect(headers?.get("content-type")).toBe("application/json");
  });

  it.each(["cookie", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "connection", "origin", "x-csrf", "user-agent"])(
    "does not forward the browser's %s header",
    async (name) => {
      const { calls, fetch } = recordingFetch();
      await forwardToApi(browserRequest("POST", "{}"), "/notes", TOKEN, options(fetch));
      expect(calls[0]?.headers.has(name)).toBe(false);
    },
  );

  it("replaces the browser's Authorization header instead of passing it on", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.headers.get("authorization")).not.toContain("Basic");
  });

  it.each(["GET", "POST", "PUT", "PATCH", "DELETE"])("forwards the method %s", async (method) => {
    const { calls, fetch } = recordingFetch();
    const hasBody = ["POST", "PUT", "PATCH"].includes(method);
    await forwardToApi(browserRequest(method, hasBody ? "{}" : undefined), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.init.method).toBe(method);
  });

  it("forwards the request body unchanged", async () => {
    const { calls, fetch } = recordingFetch();
    const body = JSON.stringify({ text: "héllo, wörld" });
    await forwardToApi(browserRequest("POST", body), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.body).toBe(body);
  });

  it("sends no body on a DELETE", async () => {
    const { calls, fetch } = recordingFetch(() => new Response(null, { status: 204 }));
    await forwardToApi(browserRequest("DELETE"), "/notes/abc", TOKEN, options(fetch));
    expect(calls[0]?.body).toBeUndefined();
  });

  it("does not follow upstream redirects", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.init.redirect).toBe("manual");
  });

  it("gives the upstream call an abort signal", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });
});

describe("forwardToApi request size limit", () => {
  it("answers 413 for a declared content-length over the limit, without calling the API", async () => {
    const { calls, fetch } = recordingFetch();
    const request = browserRequest("POST", "{}", { "content-length": String(16 * 1024 + 1) });
    await expectJsonError(await forwardToApi(request, "/notes", TOKEN, options(fetch)), 413, "payload_too_large");
    expect(calls).toHaveLength(0);
  });

  it("answers 413 for a streamed body over the limit with no content-length, without calling the API", async () => {
    const { calls, fetch } = recordingFetch();
    const request = streamedRequest(16 * 1024 + 1);
    expect(request.headers.has("content-length")).toBe(false);
    await expectJsonError(await forwardToApi(request, "/notes", TOKEN, options(fetch)), 413, "payload_too_large");
    expect(calls).toHaveLength(0);
  });

  it("forwards a streamed body of exactly the limit", async () => {
    const { calls, fetch } = recordingFetch();
    const response = await forwardToApi(streamedRequest(16 * 1024), "/notes", TOKEN, options(fetch));
    expect(response.status).toBe(200);
    expect(calls[0]?.body).toHaveLength(16 * 1024);
  });

  it("applies a custom maxRequestBytes", async () => {
    const { calls, fetch } = recordingFetch();
    const response = await forwardToApi(browserRequest("POST", "x".repeat(11)), "/notes", TOKEN, options(fetch, { maxRequestBytes: 10 }));
    await expectJsonError(response, 413, "payload_too_large");
    expect(calls).toHaveLength(0);
  });
});

describe("forwardToApi upstream failures", () => {
  it("answers 504 upstream_timeout when fetch rejects with a TimeoutError", async () => {
    const fetchImpl = (async () => {
      throw new DOMException("The operation timed out.", "TimeoutError");
    }) as typeof fetch;
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetchImpl)), 504, "upstream_timeout");
  });

  it("answers 504 upstream_timeout when the API does not answer before timeoutMs", async () => {
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason));
      })) as typeof fetch;
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(hanging, { timeoutMs: 5 }));
    await expectJsonError(response, 504, "upstream_timeout");
  });

  it("answers 502 upstream_unavailable on a network error", async () => {
    const fetchImpl = (async () => {
      throw new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") });
    }) as typeof fetch;
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetchImpl)), 502, "upstream_unavailable");
  });

  it("answers 502 upstream_unavailable, not 504, for an abort that is not a timeout", async () => {
    const fetchImpl = (async () => {
      throw new DOMException("aborted", "AbortError");
    }) as typeof fetch;
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetchImpl)), 502, "upstream_unavailable");
  });

  it.each([301, 302, 303, 307, 308])("answers 502 for an upstream %i redirect and does not pass its Location on", async (status) => {
    const { fetch } = recordingFetch(() => new Response(null, { status, headers: { location: "https://evil.example/" } }));
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(response.headers.get("location")).toBeNull();
    await expectJsonError(response, 502, "upstream_error");
  });

  it("answers 502 when the upstream response is over the limit", async () => {
    const { fetch } = recordingFetch(() => bigResponse(101));
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch, { maxResponseBytes: 100 }));
    await expectJsonError(response, 502, "upstream_error");
  });

  it("answers 502 when the upstream response is over the default 1 MB limit", async () => {
    const { fetch } = recordingFetch(() => bigResponse(1024 * 1024 + 1));
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch)), 502, "upstream_error");
  });

  it("passes an upstream response of exactly the limit", async () => {
    const { fetch } = recordingFetch(() => bigResponse(100));
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch, { maxResponseBytes: 100 }));
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(100);
  });

  it("answers 502 upstream_unavailable when the upstream body is cut off", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"par'));
        controller.error(new TypeError("terminated"));
      },
    });
    const { fetch } = recordingFetch(() => new Response(broken, { headers: { "content-type": "application/json" } }));
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch)), 502, "upstream_unavailable");
  });

  it("answers 504 upstream_timeout when the time runs out while the body is still arriving", async () => {
    const slow = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"par'));
        controller.error(new DOMException("The operation timed out.", "TimeoutError"));
      },
    });
    const { fetch } = recordingFetch(() => new Response(slow, { headers: { "content-type": "application/json" } }));
    await expectJsonError(await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch)), 504, "upstream_timeout");
  });
});

describe("forwardToApi response", () => {
  it("passes the upstream status and JSON body through", async () => {
    const notes = [{ id: "n1", text: "hello" }];
    const { fetch } = recordingFetch(() => Response.json(notes, { status: 201 }));
    const response = await forwardToApi(browserRequest("POST", "{}"), "/notes", TOKEN, options(fetch));
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(notes);
  });

  it.each([
    [401, { error: "invalid_token" }],
    [403, { error: "insufficient_scope" }],
    [404, { error: "not_found" }],
    [500, { error: "internal" }],
  ])("passes an upstream %i and its body through", async (status, body) => {
    const { fetch } = recordingFetch(() => Response.json(body, { status }));
    const response = await forwardToApi(browserRequest("GET"), "/notes/x", TOKEN, options(fetch));
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual(body);
  });

  it("passes a 205 with no body instead of failing", async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 205 }));
    const response = await forwardToApi(browserRequest("DELETE"), "/notes/abc", TOKEN, options(fetch));
    expect(response.status).toBe(205);
    expect(response.body).toBeNull();
  });

  it("passes a 204 with no body", async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 204 }));
    const response = await forwardToApi(browserRequest("DELETE"), "/notes/abc", TOKEN, options(fetch));
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expect(response.headers.get("content-type")).toBeNull();
  });

  it("does not pass upstream set-cookie or other headers through", async () => {
    const { fetch } = recordingFetch(() =>
      Response.json({ ok: true }, { headers: { "set-cookie": "api-session=1; Path=/", "x-powered-by": "hono", "www-authenticate": "Bearer" } }),
    );
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it.each([
    ["a 200", () => Response.json({ ok: true })],
    ["a 204", () => new Response(null, { status: 204 })],
    ["a 404", () => Response.json({ error: "not_found" }, { status: 404 })],
    ["an upstream cache-control: public", () => Response.json({ ok: true }, { headers: { "cache-control": "public, max-age=3600" } })],
  ])("marks %s as cache-control: no-store", async (_name, respond) => {
    const { fetch } = recordingFetch(respond);
    const response = await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch));
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

/** A traceparent the browser (or anyone) sent along: never the one the API gets. */
const CLIENT_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const DURATION = "tessera.api.client.request.duration";

describe("forwardToApi with telemetry off", () => {
  it("adds no traceparent, and does not pass on the browser's", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("GET", undefined, { traceparent: CLIENT_TRACEPARENT, tracestate: "v=1" }), "/notes", TOKEN, options(fetch));
    expect([...(calls[0]?.headers.keys() ?? [])].sort()).toEqual(["accept", "authorization"]);
  });
});

describe("forwardToApi with telemetry on", () => {
  const telemetry = useTelemetry();
  afterEach(() => vi.restoreAllMocks());

  /** `performance.now`, stubbed: the API's answers take `ms` each. */
  function apiTaking(ms: number, respond: () => Response | Promise<Response> = () => Response.json({ ok: true })) {
    let now = 50_000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    return recordingFetch(async () => {
      now += ms;
      return respond();
    });
  }

  it("hands the API this request's trace in traceparent, the call's own span as the parent, in place of the browser's", async () => {
    const { calls, fetch } = recordingFetch();
    const request = browserRequest("GET", undefined, { traceparent: CLIENT_TRACEPARENT });
    await inSpan("GET /api/notes", () => forwardToApi(request, "/notes", TOKEN, options(fetch, { route: "/api/notes" })), { kind: SpanKind.SERVER });
    const [server, client] = [telemetry.finishedSpans().find((span) => span.kind === SpanKind.SERVER)!, telemetry.finishedSpans().find((span) => span.kind === SpanKind.CLIENT)!];
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    const sent = calls[0]?.headers.get("traceparent");
    expect(sent).toBe(`00-${server.spanContext().traceId}-${client.spanContext().spanId}-01`);
    expect(sent).not.toBe(CLIENT_TRACEPARENT);
    expect([...(calls[0]?.headers.keys() ?? [])].sort()).toEqual(["accept", "authorization", "traceparent"]);
  });

  it("records the call's duration in seconds by the route's pattern, the method and the API's status", async () => {
    const { fetch } = apiTaking(120, () => new Response(null, { status: 204 }));
    await forwardToApi(browserRequest("DELETE"), "/notes/note-123", TOKEN, options(fetch, { route: "/api/notes/[id]" }));
    expect(await telemetry.collectMetric(DURATION)).toEqual([
      { attributes: { "http.route": "/api/notes/[id]", "http.request.method": "DELETE", "http.response.status_code": 204 }, value: 1, sum: 0.12 },
    ]);
    expect(JSON.stringify(await telemetry.collectMetric(DURATION))).not.toContain("note-123");
  });

  it("traces the call as a client span named by the method and the route's pattern", async () => {
    const { fetch } = apiTaking(1, () => Response.json({ error: "not_found" }, { status: 404 }));
    await forwardToApi(browserRequest("GET"), "/notes/note-123", TOKEN, options(fetch, { route: "/api/notes/[id]" }));
    const span = telemetry.span("GET /api/notes/[id]");
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({ "http.route": "/api/notes/[id]", "http.request.method": "GET", "http.response.status_code": 404 });
  });

  it("records an API that could not be reached by the status answered in its place, 502, and without a status of the API's", async () => {
    const unreachable = (async () => {
      throw new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") });
    }) as typeof fetch;
    const response = await forwardToApi(browserRequest("POST", "{}"), "/notes", TOKEN, options(unreachable, { route: "/api/notes" }));
    expect(response.status).toBe(502);
    expect(await telemetry.collectMetric(DURATION)).toEqual([{ attributes: { "http.route": "/api/notes", "http.request.method": "POST", "error.type": "502" }, value: 1, sum: expect.any(Number) }]);
    expect(telemetry.span("POST /api/notes").attributes).toEqual({ "http.route": "/api/notes", "http.request.method": "POST", "error.type": "502" });
  });

  it("records an API that did not answer in time as 504", async () => {
    const timedOut = (async () => {
      throw new DOMException("The operation timed out.", "TimeoutError");
    }) as typeof fetch;
    await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(timedOut, { route: "/api/notes" }));
    expect(await telemetry.collectMetric(DURATION)).toEqual([{ attributes: { "http.route": "/api/notes", "http.request.method": "GET", "error.type": "504" }, value: 1, sum: expect.any(Number) }]);
  });

  it("records what the API answered when its answer was refused: a redirect is the API's 302", async () => {
    const { fetch } = apiTaking(1, () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } }));
    expect((await forwardToApi(browserRequest("GET"), "/notes", TOKEN, options(fetch, { route: "/api/notes" }))).status).toBe(502);
    expect(await telemetry.collectMetric(DURATION)).toEqual([{ attributes: { "http.route": "/api/notes", "http.request.method": "GET", "http.response.status_code": 302 }, value: 1, sum: 0.001 }]);
  });

  it("records nothing, and traces nothing, for a request refused before the API is called", async () => {
    const { calls, fetch } = recordingFetch();
    await forwardToApi(browserRequest("POST", "x".repeat(11)), "/notes", TOKEN, options(fetch, { maxRequestBytes: 10, route: "/api/notes" }));
    expect(calls).toHaveLength(0);
    expect(await telemetry.collectMetric(DURATION)).toEqual([]);
    expect(telemetry.finishedSpans()).toEqual([]);
  });

  it("names the call by its route pattern, never by the path with its values", async () => {
    const { fetch } = apiTaking(1);
    await forwardToApi(browserRequest("DELETE"), "/notes/n-123", TOKEN, options(fetch, { route: "/api/notes/[id]" }));
    expect((await telemetry.collectMetric(DURATION))[0]?.attributes["http.route"]).toBe("/api/notes/[id]");
    expect(JSON.stringify(telemetry.finishedSpans().map((span) => [span.name, span.attributes]))).not.toContain("n-123");
  });
});
