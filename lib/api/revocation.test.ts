import { describe, expect, it, vi } from "vitest";
import { ApiRevocationError, relayLogoutToken, revokeAccessToken, type ApiRevocationOptions } from "./revocation";

const API_URL = new URL("https://api.example");
const ACCESS_TOKEN = "access-token-secret-1a2b";
const LOGOUT_TOKEN = "header.logout-payload.signature";

interface Recorded {
  url: string;
  init: RequestInit;
}

function api(answer: () => Response | Promise<Response>) {
  const requests: Recorded[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    requests.push({ url: String(input), init });
    return answer();
  });
  const options: ApiRevocationOptions = { apiUrl: API_URL, timeoutMs: 1000, fetch: fetchImpl as unknown as typeof fetch };
  return { requests, options };
}

async function failure(promise: Promise<unknown>): Promise<ApiRevocationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiRevocationError);
  expect((error as Error).message).not.toContain(ACCESS_TOKEN);
  expect((error as Error).message).not.toContain(LOGOUT_TOKEN);
  return error as ApiRevocationError;
}

const unreachable = () => Promise.reject(new TypeError("fetch failed"));
const timedOut = () => Promise.reject(new DOMException("The operation timed out.", "TimeoutError"));

describe("revokeAccessToken", () => {
  it("posts to /revocations with the access token as a Bearer token, and a timeout", async () => {
    const { requests, options } = api(() => new Response(null, { status: 204 }));
    expect(await revokeAccessToken(ACCESS_TOKEN, options)).toBe("revoked");
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe("https://api.example/revocations");
    expect(requests[0]?.init.method).toBe("POST");
    expect(new Headers(requests[0]?.init.headers).get("authorization")).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(requests[0]?.init.signal).toBeInstanceOf(AbortSignal);
    expect(requests[0]?.init.redirect).toBe("manual");
  });

  it("takes a 401 to mean the token is already unusable", async () => {
    const { options } = api(() => Response.json({ error: "invalid_token" }, { status: 401 }));
    expect(await revokeAccessToken(ACCESS_TOKEN, options)).toBe("already_invalid");
  });

  it.each([
    ["a network error", unreachable],
    ["a timeout", timedOut],
    ["a 503", () => Response.json({ error: "temporarily_unavailable" }, { status: 503 })],
  ])("reports the API unreachable on %s", async (_label, answer) => {
    expect((await failure(revokeAccessToken(ACCESS_TOKEN, api(answer).options))).code).toBe("api_unreachable");
  });

  it("reports a refusal on any other answer", async () => {
    expect((await failure(revokeAccessToken(ACCESS_TOKEN, api(() => new Response(null, { status: 404 })).options))).code).toBe("api_refused");
  });
});

describe("relayLogoutToken", () => {
  it("posts the logout token as a form to /revocations/logout-token, without any bearer token", async () => {
    const { requests, options } = api(() => new Response(null, { status: 200 }));
    await relayLogoutToken(LOGOUT_TOKEN, options);
    expect(requests[0]?.url).toBe("https://api.example/revocations/logout-token");
    const headers = new Headers(requests[0]?.init.headers);
    expect(headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(headers.has("authorization")).toBe(false);
    expect(new URLSearchParams(String(requests[0]?.init.body)).getAll("logout_token")).toEqual([LOGOUT_TOKEN]);
  });

  it("reports a refusal when the API finds the token invalid", async () => {
    const { options } = api(() => Response.json({ error: "invalid_request" }, { status: 400 }));
    expect((await failure(relayLogoutToken(LOGOUT_TOKEN, options))).code).toBe("api_refused");
  });

  it.each([
    ["a network error", unreachable],
    ["a timeout", timedOut],
    ["a 503", () => Response.json({ error: "temporarily_unavailable" }, { status: 503 })],
  ])("reports the API unreachable on %s", async (_label, answer) => {
    expect((await failure(relayLogoutToken(LOGOUT_TOKEN, api(answer).options))).code).toBe("api_unreachable");
  });
});
