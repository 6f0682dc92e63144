import { describe, expect, it, vi } from "vitest";
import { discardRefreshToken, revokeRefreshToken, TokenRevocationError } from "./token-revocation";
import type { ClientOptions } from "./client-auth";
import { useTelemetry } from "@/lib/testing/telemetry";

const ISSUER = "https://idp.example";
const REVOCATION_ENDPOINT = `${ISSUER}/token/revocation`;
/** Characters that RFC 6749 §2.3.1 form-url-encodes before Basic encoding. */
const CLIENT_ID = "tessera bff";
const CLIENT_SECRET = "p@ss:w/rd";
const REFRESH_TOKEN = "refresh-token-secret-5f4e3d";

interface Recorded {
  url: string;
  method: string | undefined;
  headers: Headers;
  body: URLSearchParams;
  signal: AbortSignal | null | undefined;
}

/** A revocation endpoint: records each request and answers with `answer`. */
function endpoint(answer: () => Response | Promise<Response>) {
  const requests: Recorded[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    requests.push({ url: String(input), method: init.method, headers: new Headers(init.headers), body: new URLSearchParams(String(init.body)), signal: init.signal });
    return answer();
  });
  return { requests, fetch: fetchImpl as unknown as typeof fetch };
}

function options(fetchImpl: typeof fetch, overrides: Partial<ClientOptions> = {}): ClientOptions {
  return {
    metadata: async () => ({ issuer: ISSUER, revocation_endpoint: REVOCATION_ENDPOINT }),
    issuer: ISSUER,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 1000,
    fetch: fetchImpl,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<TokenRevocationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TokenRevocationError);
  return error as TokenRevocationError;
}

describe("revokeRefreshToken", () => {
  it("posts the refresh token to the revocation endpoint with client_secret_basic and a timeout", async () => {
    const idp = endpoint(() => new Response(null, { status: 200 }));
    expect(await revokeRefreshToken(REFRESH_TOKEN, options(idp.fetch))).toBe("revoked");

    expect(idp.requests).toHaveLength(1);
    const [request] = idp.requests;
    expect(request?.url).toBe(REVOCATION_ENDPOINT);
    expect(request?.method).toBe("POST");
    expect(request?.body.get("token")).toBe(REFRESH_TOKEN);
    expect(request?.body.get("token_type_hint")).toBe("refresh_token");
    expect(request?.body.has("client_secret")).toBe(false);
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID).replace(/%20/g, "+")}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`;
    expect(request?.headers.get("authorization")).toBe(basic);
    expect(request?.signal).toBeInstanceOf(AbortSignal);
  });

  it("is unsupported, asking nothing, when the IdP publishes no revocation endpoint", async () => {
    const idp = endpoint(() => new Response(null, { status: 200 }));
    const result = await revokeRefreshToken(REFRESH_TOKEN, options(idp.fetch, { metadata: async () => ({ issuer: ISSUER }) }));
    expect(result).toBe("unsupported");
    expect(idp.requests).toHaveLength(0);
  });

  it("reports the IdP unreachable when discovery fails", async () => {
    const idp = endpoint(() => new Response(null, { status: 200 }));
    const metadata = async () => {
      throw new TypeError("fetch failed");
    };
    expect((await failure(revokeRefreshToken(REFRESH_TOKEN, options(idp.fetch, { metadata })))).code).toBe("idp_unreachable");
  });

  it.each([
    ["a network error", () => Promise.reject(new TypeError("fetch failed"))],
    ["a timeout", () => Promise.reject(new DOMException("The operation timed out.", "TimeoutError"))],
    ["a 503 OAuth error", () => Response.json({ error: "temporarily_unavailable" }, { status: 503 })],
    ["a proxy's 502 page", () => new Response("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } })],
    ["a rate limit", () => new Response(null, { status: 429 })],
  ])("reports the IdP unreachable on %s", async (_label, answer) => {
    const error = await failure(revokeRefreshToken(REFRESH_TOKEN, options(endpoint(answer).fetch)));
    expect(error.code).toBe("idp_unreachable");
  });

  it.each([
    ["invalid_client", () => Response.json({ error: "invalid_client" }, { status: 401 })],
    ["unsupported_token_type", () => Response.json({ error: "unsupported_token_type" }, { status: 400 })],
    ["a non-OAuth 404", () => new Response("not found", { status: 404 })],
  ])("reports a refusal on %s", async (_label, answer) => {
    const error = await failure(revokeRefreshToken(REFRESH_TOKEN, options(endpoint(answer).fetch)));
    expect(error.code).toBe("revocation_refused");
  });

  it("says what the endpoint answered", async () => {
    const error = await failure(revokeRefreshToken(REFRESH_TOKEN, options(endpoint(() => Response.json({ error: "invalid_client" }, { status: 401 })).fetch)));
    expect(error.message).toContain("the revocation endpoint answered HTTP 401, error invalid_client");
  });

  it("never puts the refresh token in its error messages", async () => {
    const error = await failure(revokeRefreshToken(REFRESH_TOKEN, options(endpoint(() => Response.json({ error: "invalid_request" }, { status: 400 })).fetch)));
    expect(error.message).not.toContain(REFRESH_TOKEN);
  });
});

describe("discardRefreshToken", () => {
  it("revokes the token, and only logs a failure, since nothing else can be done about it", async () => {
    const revoked = endpoint(() => new Response(null, { status: 200 }));
    await discardRefreshToken(REFRESH_TOKEN, options(revoked.fetch));
    expect(revoked.requests.map((request) => request.body.get("token"))).toEqual([REFRESH_TOKEN]);

    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(discardRefreshToken(REFRESH_TOKEN, options(endpoint(() => Promise.reject(new TypeError("fetch failed"))).fetch))).resolves.toBeUndefined();
    expect(String(error.mock.calls[0]?.[0])).toMatch(/could not revoke a refresh token the app will not keep.*idp_unreachable/);
    expect(String(error.mock.calls[0]?.[0])).not.toContain(REFRESH_TOKEN);
    error.mockRestore();
  });

  it("asks nothing without a refresh token", async () => {
    const idp = endpoint(() => new Response(null, { status: 200 }));
    await discardRefreshToken(undefined, options(idp.fetch));
    expect(idp.requests).toEqual([]);
  });
});

describe("revokeRefreshToken telemetry", () => {
  const telemetry = useTelemetry({ traces: false });

  it("times the call as the revocation endpoint's, with the status it answered", async () => {
    const idp = endpoint(() => new Response(null, { status: 200 }));
    expect(await revokeRefreshToken(REFRESH_TOKEN, options(idp.fetch))).toBe("revoked");
    expect(await telemetry.collectMetric("tessera.idp.request.duration")).toEqual([
      { attributes: { "tessera.idp.endpoint": "revocation", "http.response.status_code": 200 }, value: 1, sum: expect.any(Number) },
    ]);
  });
});
