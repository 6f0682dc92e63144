import { SignJWT, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Session } from "@/lib/session/session";
import { RefreshError, refreshSession, type RefreshErrorCode, type RefreshOptions } from "./token-refresh";
import { useTelemetry } from "@/lib/testing/telemetry";

const ISSUER = "https://idp.example";
const TOKEN_ENDPOINT = `${ISSUER}/token`;
/** A client id and secret with characters that RFC 6749 §2.3.1 form-url-encodes before Basic encoding. */
const CLIENT_ID = "tessera bff";
const CLIENT_SECRET = "p@ss:w/rd";
const REFRESH_TOKEN = "refresh-token-secret-5f4e3d";
const NOW_MS = 1_893_456_000_500; // 2030-01-01T00:00:00.5Z
const NOW = 1_893_456_000;

const session: Session = {
  id: "session-1",
  sub: "alice",
  sid: "sid-1",
  name: "Alice",
  email: "alice@example.com",
  accessToken: "old-access-token",
  startedAt: NOW - 3600,
  accessTokenExpiresAt: NOW + 30,
  refreshAt: NOW - 30,
  refreshToken: REFRESH_TOKEN,
  idToken: "old-id-token",
  expiresAt: NOW + 8 * 3600,
};

interface Recorded {
  url: string;
  method: string | undefined;
  headers: Headers;
  body: URLSearchParams;
}

/** A token endpoint: records each request and answers with `answer`. */
function tokenEndpoint(answer: (request: Recorded, init: RequestInit) => Response | Promise<Response>) {
  const requests: Recorded[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const request = { url: String(input), method: init.method, headers: new Headers(init.headers), body: new URLSearchParams(String(init.body)) };
    requests.push(request);
    return answer(request, init);
  });
  return { requests, fetch: fetchImpl as unknown as typeof fetch & typeof fetchImpl };
}

const tokens = (body: Record<string, unknown>) => () => Response.json({ token_type: "Bearer", ...body });
const oauthError = (status: number, error: string, headers: Record<string, string> = {}) => () =>
  Response.json({ error, error_description: "refused" }, { status, headers });

function options(fetchImpl: typeof fetch, overrides: Partial<RefreshOptions> = {}): RefreshOptions {
  return {
    metadata: async () => ({ issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT }),
    issuer: ISSUER,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 1000,
    fetch: fetchImpl,
    now: () => NOW_MS,
    ...overrides,
  };
}

let signingKey: CryptoKey;
beforeAll(async () => {
  signingKey = (await generateKeyPair("RS256")).privateKey;
});

/** An ID token whose claims pass oauth4webapi's checks (it does not verify the signature here); `claims` override one thing. */
function idToken(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: CLIENT_ID, sub: "alice", iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .sign(signingKey);
}

async function refreshError(promise: Promise<unknown>): Promise<RefreshError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RefreshError);
    return error as RefreshError;
  }
  throw new Error("expected a RefreshError");
}

describe("refreshSession: the request", () => {
  it("POSTs to the token endpoint from the metadata", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    await refreshSession(session, options(idp.fetch));
    expect(idp.requests).toHaveLength(1);
    expect(idp.requests[0]?.url).toBe(TOKEN_ENDPOINT);
    expect(idp.requests[0]?.method).toBe("POST");
  });

  it("sends grant_type=refresh_token with the session's refresh token", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    await refreshSession(session, options(idp.fetch));
    const body = idp.requests[0]?.body;
    expect(body?.get("grant_type")).toBe("refresh_token");
    expect(body?.get("refresh_token")).toBe(REFRESH_TOKEN);
  });

  it("sends the body form-url-encoded", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    await refreshSession(session, options(idp.fetch));
    expect(idp.requests[0]?.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it("authenticates with HTTP Basic of the form-url-encoded client id and secret", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    await refreshSession(session, options(idp.fetch));
    // RFC 6749 §2.3.1: "tessera bff" → "tessera+bff", "p@ss:w/rd" → "p%40ss%3Aw%2Frd", then Base64.
    const expected = Buffer.from("tessera+bff:p%40ss%3Aw%2Frd").toString("base64");
    expect(idp.requests[0]?.headers.get("authorization")).toBe(`Basic ${expected}`);
  });

  it("does not put the client secret in the body", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    await refreshSession(session, options(idp.fetch));
    expect(idp.requests[0]?.body.has("client_secret")).toBe(false);
  });

  it("gives the request an abort signal", async () => {
    let signal: AbortSignal | null | undefined;
    const idp = tokenEndpoint((_request, init) => {
      signal = init.signal;
      return tokens({ access_token: "new", expires_in: 300 })();
    });
    await refreshSession(session, options(idp.fetch));
    expect(signal).toBeInstanceOf(AbortSignal);
  });
});

describe("refreshSession: a successful refresh", () => {
  it("takes the new access token", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new-access-token", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.accessToken).toBe("new-access-token");
  });

  it("sets accessTokenExpiresAt to now + expires_in, in whole seconds", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.accessTokenExpiresAt).toBe(NOW + 300);
  });

  it("sets refreshAt 60 seconds before expiry by default", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.refreshAt).toBe(NOW + 240);
  });

  it("sets refreshAt with the given refreshSkew", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch, { refreshSkew: 10 }));
    expect(refreshed.refreshAt).toBe(NOW + 290);
  });

  it("sets refreshAt a quarter of the lifetime early for a short token", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 8 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.refreshAt).toBe(NOW + 6);
  });

  it("replaces the refresh token with a rotated one", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, refresh_token: "rotated-refresh-token" }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.refreshToken).toBe("rotated-refresh-token");
  });

  it("keeps the refresh token when the response has none", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.refreshToken).toBe(REFRESH_TOKEN);
  });

  it("keeps the user's identity and the session's end", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, refresh_token: "rotated" }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed).toMatchObject({ sub: "alice", sid: "sid-1", name: "Alice", email: "alice@example.com", expiresAt: session.expiresAt });
  });

  it("does not modify the session it was given", async () => {
    const before = structuredClone(session);
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, refresh_token: "rotated" }));
    await refreshSession(session, options(idp.fetch));
    expect(session).toEqual(before);
  });

  it("keeps the old ID token when the response has none", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.idToken).toBe("old-id-token");
  });

  it("takes a new ID token that names the same user", async () => {
    const newIdToken = await idToken();
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, id_token: newIdToken }));
    const refreshed = await refreshSession(session, options(idp.fetch));
    expect(refreshed.idToken).toBe(newIdToken);
  });
});

describe("refreshSession: refusals", () => {
  it("fails with subject_mismatch when the new ID token names another subject", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, id_token: await idToken({ sub: "mallory" }) }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("subject_mismatch");
    expect(error.message).toMatch(/another subject/);
  });

  it("fails with invalid_response when the new ID token is for another client", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300, id_token: await idToken({ aud: "someone-else" }) }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("invalid_response");
  });

  it("fails with invalid_grant when the IdP answers 400 invalid_grant", async () => {
    const idp = tokenEndpoint(oauthError(400, "invalid_grant"));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("invalid_grant");
  });

  it("fails with refresh_refused when the IdP answers 401 invalid_client, and says so", async () => {
    const idp = tokenEndpoint(oauthError(401, "invalid_client"));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("refresh_refused");
    expect(error.message).toContain("the token endpoint answered HTTP 401, error invalid_client");
  });

  it("fails with refresh_refused when the IdP answers 401 invalid_client with a WWW-Authenticate challenge", async () => {
    const idp = tokenEndpoint(oauthError(401, "invalid_client", { "www-authenticate": 'Basic realm="idp"' }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("refresh_refused");
  });

  it("fails with refresh_refused when the IdP answers 400 invalid_client", async () => {
    const idp = tokenEndpoint(oauthError(400, "invalid_client"));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("refresh_refused");
  });

  it.each([
    ["an empty body", () => new Response(null, { status: 400 })],
    ["an HTML page", () => new Response("<html>Bad Request</html>", { status: 400, headers: { "content-type": "text/html" } })],
    ["an empty 403", () => new Response("", { status: 403 })],
  ])("fails with refresh_refused, not as an outage, when the IdP refuses with %s and no OAuth error", async (_name, answer) => {
    const idp = tokenEndpoint(answer);
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("refresh_refused");
    expect(error.message).toMatch(/the token endpoint answered HTTP 40[03] without an OAuth error/);
  });

  it("logs the IdP's error code, never its description, and no code that is not one", async () => {
    const described = await refreshError(
      refreshSession(session, options(tokenEndpoint(() => Response.json({ error: "unauthorized_client", error_description: "<b>alice@example.com</b>" }, { status: 400 })).fetch)),
    );
    expect(described.message).toContain("HTTP 400, error unauthorized_client");
    expect(described.message).not.toContain("alice");
    const odd = await refreshError(refreshSession(session, options(tokenEndpoint(() => Response.json({ error: "<script>x</script>" }, { status: 400 })).fetch)));
    expect(odd.message).toContain("HTTP 400 with an unrecognised error code");
    expect(odd.message).not.toContain("script");
  });

  it("fails with invalid_response when a 200 response has no access token", async () => {
    const idp = tokenEndpoint(tokens({ expires_in: 300 }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("invalid_response");
  });

  it("fails with invalid_grant, without calling the IdP, when the session has no refresh token", async () => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const { refreshToken: _refreshToken, ...withoutRefreshToken } = session;
    const error = await refreshError(refreshSession(withoutRefreshToken, options(idp.fetch)));
    expect(error.code).toBe("invalid_grant");
    expect(idp.fetch).not.toHaveBeenCalled();
  });
});

describe("refreshSession: an unreachable IdP", () => {
  it("fails with idp_unreachable on a 503 with an HTML body", async () => {
    const idp = tokenEndpoint(() => new Response("<html><body>Service Unavailable</body></html>", { status: 503, headers: { "content-type": "text/html" } }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("idp_unreachable");
  });

  it.each([429, 408])("fails with idp_unreachable on a %i, which says 'not now'", async (status) => {
    const idp = tokenEndpoint(() => new Response(null, { status }));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("idp_unreachable");
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it("fails with idp_unreachable on a 500 with an OAuth error body", async () => {
    const idp = tokenEndpoint(oauthError(500, "server_error"));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("idp_unreachable");
  });

  it("fails with idp_unreachable when fetch rejects with a network TypeError", async () => {
    const idp = tokenEndpoint(() => Promise.reject(new TypeError("fetch failed")));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe("idp_unreachable");
  });

  it("fails with idp_unreachable when the token endpoint does not answer within timeoutMs", async () => {
    const idp = tokenEndpoint(
      (_request, init) =>
        new Promise<Response>((_resolve, reject) => {
          const signal = init.signal;
          if (!signal) return reject(new Error("no abort signal"));
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    );
    const error = await refreshError(refreshSession(session, options(idp.fetch, { timeoutMs: 5 })));
    expect(error.code).toBe("idp_unreachable");
  });

  it.each([
    ["a network error", () => new TypeError("fetch failed")],
    ["a refused discovery request", () => new Error("unexpected HTTP status code 404")],
  ])("fails with idp_unreachable, without calling the token endpoint, when the metadata cannot be fetched (%s)", async (_name, failure) => {
    const idp = tokenEndpoint(tokens({ access_token: "new", expires_in: 300 }));
    const metadata = () => Promise.reject(failure());
    const error = await refreshError(refreshSession(session, options(idp.fetch, { metadata })));
    expect(error.code).toBe("idp_unreachable");
    expect(idp.fetch).not.toHaveBeenCalled();
  });

  it("keeps the original failure as the error's cause", async () => {
    const failure = new TypeError("fetch failed");
    const idp = tokenEndpoint(() => Promise.reject(failure));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.cause).toBe(failure);
  });
});

describe("refreshSession: error messages", () => {
  const scenarios: Array<[string, () => Response | Promise<Response>, RefreshErrorCode]> = [
    ["invalid_grant", oauthError(400, "invalid_grant"), "invalid_grant"],
    ["invalid_client", oauthError(401, "invalid_client"), "refresh_refused"],
    ["an empty 400", () => new Response(null, { status: 400 }), "refresh_refused"],
    ["a 503 page", () => new Response("<html>down</html>", { status: 503, headers: { "content-type": "text/html" } }), "idp_unreachable"],
    ["a 500 OAuth error", oauthError(500, "server_error"), "idp_unreachable"],
    ["a network error", () => Promise.reject(new TypeError("fetch failed")), "idp_unreachable"],
  ];

  it.each(scenarios)("never include the refresh token (%s)", async (_name, answer, code) => {
    const idp = tokenEndpoint(answer);
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.code).toBe(code);
    expect(error.message).not.toContain(REFRESH_TOKEN);
    expect(String(error)).not.toContain(REFRESH_TOKEN);
  });

  it("names the error RefreshError", async () => {
    const idp = tokenEndpoint(oauthError(400, "invalid_grant"));
    const error = await refreshError(refreshSession(session, options(idp.fetch)));
    expect(error.name).toBe("RefreshError");
  });
});

describe("refreshSession telemetry", () => {
  const telemetry = useTelemetry();

  it("times the call as the token endpoint's, with the status it answered, in an idp token span", async () => {
    const idp = tokenEndpoint(oauthError(400, "invalid_grant"));
    expect((await refreshError(refreshSession(session, options(idp.fetch)))).code).toBe("invalid_grant");
    expect(idp.requests).toHaveLength(1);
    expect(await telemetry.collectMetric("tessera.idp.request.duration")).toEqual([
      { attributes: { "tessera.idp.endpoint": "token", "http.response.status_code": 400 }, value: 1, sum: expect.any(Number) },
    ]);
    expect(telemetry.span("idp token").attributes["http.response.status_code"]).toBe(400);
  });
});
