/**
 * The middleware as Next.js runs it, one request at a time: which headers it sets, and what it does with
 * session cookies sealed under rotated, unknown or no secrets. The IdP is a stub `fetch`.
 */
import { SpanKind } from "@opentelemetry/api";
import { NextRequest } from "next/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessionPayload, type Session } from "@/lib/session/session";
import { createSessionCodec } from "@/lib/session/codec";
import { COOKIE_NAMES } from "@/lib/session/cookies";
import { STRICT_TRANSPORT_SECURITY } from "@/lib/http/security-headers";
import { UNREFRESHABLE_LIMIT } from "@/lib/refresh/policy";
import { useTelemetry } from "@/lib/testing/telemetry";

const NEWEST = "newest-secret-0123456789-0123456789-0123456789";
const OLDER = "older-secret-0123456789-0123456789-0123456789";
const UNKNOWN = "unknown-secret-0123456789-0123456789-012345678";
const ISSUER = "https://idp.example";
const NAME = COOKIE_NAMES.session;

/** A fresh module graph, so that the configuration is read again from `env`. */
async function middlewareWith(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import("./middleware")).middleware;
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function session(overrides: Partial<Session> = {}): Session {
  return {
    id: "session-1",
    sub: "alice",
    accessToken: "access-token-1",
    startedAt: nowSeconds() - 60,
    accessTokenExpiresAt: nowSeconds() + 300,
    refreshAt: nowSeconds() + 240,
    refreshToken: "refresh-token-1",
    expiresAt: nowSeconds() + 3600,
    ...overrides,
  };
}

const sealWith = (secret: string, value: Session) => createSessionCodec([secret], NAME).seal(sessionPayload(value), value.expiresAt);

function request(url: string, cookie?: string, headers: Record<string, string> = {}): NextRequest {
  return new NextRequest(url, { headers: { ...headers, ...(cookie ? { cookie: `${NAME}=${cookie}` } : {}) } });
}

/** The IdP: its discovery document and a token endpoint that rotates the refresh token. */
function stubIdp(): { refreshes: number } {
  const calls = { refreshes: 0 };
  vi.stubGlobal("fetch", async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === `${ISSUER}/.well-known/openid-configuration`) {
      return Response.json({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks`, authorization_endpoint: `${ISSUER}/auth` });
    }
    if (url === `${ISSUER}/token`) {
      calls.refreshes += 1;
      return Response.json({ access_token: "access-token-2", token_type: "Bearer", expires_in: 300, refresh_token: "refresh-token-2" });
    }
    return new Response(null, { status: 404 });
  });
  return calls;
}

/** The session cookie a response writes, if any, as one value. */
function writtenSession(response: Response): string | undefined {
  const written = response.headers.getSetCookie().find((header) => header.startsWith(`${NAME}=`) && !/Max-Age=0/i.test(header));
  return written && decodeURIComponent(written.slice(NAME.length + 1).split(";")[0]!);
}

const clearsSession = (response: Response) => response.headers.getSetCookie().some((header) => header.startsWith(`${NAME}=;`) && /Max-Age=0/i.test(header));

describe("Strict-Transport-Security", () => {
  it("is sent on every response when AUTH_URL is https, with the pages' CSP upgrading stray http requests", async () => {
    const middleware = await middlewareWith({ AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST });
    for (const url of ["https://app.example/", "https://app.example/api/notes", "https://app.example/dashboard"]) {
      const response = await middleware(request(url));
      expect(response.headers.get("strict-transport-security"), url).toBe(STRICT_TRANSPORT_SECURITY);
    }
    for (const url of ["https://app.example/", "https://app.example/dashboard"]) {
      expect((await middleware(request(url))).headers.get("content-security-policy"), url).toContain("upgrade-insecure-requests");
    }
  });

  it("is never sent when AUTH_URL is plain http (localhost development), where a browser would ignore or misapply it", async () => {
    const middleware = await middlewareWith({ AUTH_URL: "http://localhost:3000", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST });
    for (const url of ["http://localhost:3000/", "http://localhost:3000/api/notes", "http://localhost:3000/dashboard"]) {
      const response = await middleware(request(url));
      expect(response.headers.has("strict-transport-security"), url).toBe(false);
      expect(response.headers.get("content-security-policy") ?? "", url).not.toContain("upgrade-insecure-requests");
    }
  });
});

describe("Content-Security-Policy", () => {
  it("has a new nonce on each response, and gives the page behind the same policy to put the nonce on its scripts", async () => {
    const middleware = await middlewareWith({ AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST });
    const [first, second] = [await middleware(request("https://app.example/")), await middleware(request("https://app.example/"))];
    const nonce = (response: Response) => /'nonce-([^']+)'/.exec(response.headers.get("content-security-policy") ?? "")?.[1];
    expect(nonce(first)).toBeTruthy();
    expect(nonce(first)).not.toBe(nonce(second));
    expect(first.headers.get("x-middleware-request-content-security-policy")).toBe(first.headers.get("content-security-policy"));
  });

  it("is left off the data routes' JSON, which next.config.ts gives a policy without a nonce", async () => {
    const middleware = await middlewareWith({ AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST });
    const response = await middleware(request("https://app.example/api/me", await sealWith(NEWEST, session()), { "x-csrf": "1" }));
    expect(response.headers.get("x-middleware-next")).toBe("1");
    expect(response.headers.has("content-security-policy")).toBe(false);
  });
});

describe("the benchmark's passthrough page", () => {
  it("is let through untouched only with BENCHMARK_ROUTES=1, and guarded like any page otherwise", async () => {
    const env = { AUTH_URL: "http://localhost:3000", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };
    const on = await middlewareWith({ ...env, BENCHMARK_ROUTES: "1" });
    const through = await on(request("http://localhost:3000/bench/passthrough"));
    expect(through.headers.get("x-middleware-next")).toBe("1");
    expect(through.headers.has("content-security-policy")).toBe(false);

    const off = await middlewareWith({ ...env, BENCHMARK_ROUTES: "" });
    expect((await off(request("http://localhost:3000/bench/passthrough"))).headers.get("content-security-policy")).toContain("nonce-");
  });
});

describe("the freshness hint", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };
  const hints = (response: Response) => response.headers.getSetCookie().filter((header) => header.startsWith(`${COOKIE_NAMES.fresh}=`));

  it("is given, until the token is due, to a browser with a current session that came without it", async () => {
    const middleware = await middlewareWith(env);
    const current = session({ refreshAt: nowSeconds() + 240 });
    for (const url of ["https://app.example/dashboard", "https://app.example/api/notes"]) {
      const [hint, ...others] = hints(await middleware(request(url, await sealWith(NEWEST, current), { "x-csrf": "1" })));
      expect(others).toEqual([]);
      expect(Number(/Max-Age=(\d+)/.exec(hint ?? "")?.[1])).toBeGreaterThanOrEqual(238);
      expect(Number(/Max-Age=(\d+)/.exec(hint ?? "")?.[1])).toBeLessThanOrEqual(240);
    }
  });

  it("lets a page through without opening the session while the browser holds it: the page reads the session itself", async () => {
    const middleware = await middlewareWith(env);
    const cookie = `${NAME}=not-a-session; ${COOKIE_NAMES.fresh}=1`;
    const response = await middleware(new NextRequest("https://app.example/dashboard", { headers: { cookie } }));
    expect(response.headers.get("x-middleware-next")).toBe("1");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("content-security-policy")).toContain("nonce-");
  });

  it("is not written again to a browser that has it", async () => {
    const middleware = await middlewareWith(env);
    const cookie = `${NAME}=${await sealWith(NEWEST, session())}; ${COOKIE_NAMES.fresh}=1`;
    const response = await middleware(new NextRequest("https://app.example/dashboard", { headers: { cookie } }));
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("comes with a refreshed session, and never with one the IdP could not refresh", async () => {
    stubIdp();
    const middleware = await middlewareWith(env);
    const due = session({ refreshAt: nowSeconds() - 1 });
    expect(hints(await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, due))))).toHaveLength(1);

    vi.stubGlobal("fetch", async () => {
      throw new TypeError("fetch failed");
    });
    const unreachable = await middlewareWith(env);
    expect(hints(await unreachable(request("https://app.example/dashboard", await sealWith(NEWEST, due))))).toEqual([]);
  });

  it("is what the matcher keys the data routes on, read from the Cookie header as Next.js reads the cookie", async () => {
    const { config } = await import("./middleware");
    const { unstable_doesMiddlewareMatch } = await import("next/experimental/testing/server");
    // With `cookies` left out the helper would replace the Cookie header with one it builds (an empty one).
    const matches = (url: string, headers: Record<string, string>) => unstable_doesMiddlewareMatch({ config, url, headers, cookies: null as never });
    const { getCookieParser } = await import("next/dist/server/api-utils/get-cookie-parser");
    const HINT = COOKIE_NAMES.fresh;
    const session = `${NAME}=${"x".repeat(3000)}`;
    const cases: [string | undefined, boolean][] = [
      [undefined, false],
      [session, false],
      [`${session}; ${HINT}=1`, true],
      [`${HINT}=1; ${session}`, true],
      [`theme=dark;${HINT}=1;${session}`, true],
      [` ${HINT}=1`, true],
      [`${session}; ${HINT}=`, false],
      [`${session}; ${HINT}=; theme=dark`, false],
      [`${session}; ${HINT}-other=1`, false],
      [`${session}; x${HINT}=1`, false],
      [`${session}; theme=${HINT}=1`, false],
    ];
    for (const [cookie, hinted] of cases) {
      const headers: Record<string, string> = cookie === undefined ? {} : { cookie };
      expect(Boolean(getCookieParser(headers)()[HINT]), `${cookie?.slice(-40)}: Next.js's cookie view`).toBe(hinted);
      expect(matches("/api/notes", headers), `${cookie?.slice(-40)}: data route`).toBe(!hinted);
      // Pages always pass through the middleware, for their CSP nonce.
      expect(matches("/dashboard", headers), `${cookie?.slice(-40)}: page`).toBe(true);
    }
  });

  it("leaves the load balancers' health checks out, and nothing that merely starts like them", async () => {
    const { config } = await import("./middleware");
    const { unstable_doesMiddlewareMatch } = await import("next/experimental/testing/server");
    const matches = (url: string) => unstable_doesMiddlewareMatch({ config, url, headers: {}, cookies: null as never });
    expect(matches("/healthz")).toBe(false);
    expect(matches("/readyz")).toBe(false);
    expect(matches("/healthzz")).toBe(true);
    expect(matches("/readyz/more")).toBe(true);
  });
});

describe("AUTH_SECRET rotation", () => {
  const rotated = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: `${NEWEST},${OLDER}` };

  it("lets a session sealed with the older secret through, as it is, while no write is due", async () => {
    const middleware = await middlewareWith(rotated);
    const response = await middleware(request("https://app.example/dashboard", await sealWith(OLDER, session())));
    expect(response.headers.get("x-middleware-next")).toBe("1");
    expect(writtenSession(response)).toBeUndefined();
  });

  it("re-seals it with the newest secret on the next write (a refresh), for the browser and the page behind", async () => {
    const idp = stubIdp();
    const middleware = await middlewareWith(rotated);
    const due = session({ refreshAt: nowSeconds() - 1 });
    const response = await middleware(request("https://app.example/dashboard", await sealWith(OLDER, due)));

    expect(idp.refreshes).toBe(1);
    expect(response.headers.get("x-middleware-next")).toBe("1");
    const resealed = writtenSession(response)!;
    expect(await createSessionCodec([NEWEST], NAME).open(resealed)).toMatchObject({ sub: "alice", accessToken: "access-token-2", refreshToken: "refresh-token-2" });
    expect(await createSessionCodec([OLDER], NAME).open(resealed)).toBeNull();
    expect(response.headers.get("x-middleware-request-cookie")).toBe(`${NAME}=${encodeURIComponent(resealed)}`);
  });

  it("signs out a session sealed with a secret it no longer holds, and clears the cookie", async () => {
    const middleware = await middlewareWith({ ...rotated, AUTH_SECRET: NEWEST });
    const response = await middleware(request("https://app.example/api/me", await sealWith(OLDER, session()), { "x-csrf": "1" }));
    expect(response.status).toBe(401);
    expect(clearsSession(response)).toBe(true);
  });
});

describe("unreadable session cookies", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };

  async function unreadable(): Promise<Record<string, string>> {
    const sealed = await sealWith(NEWEST, session());
    const i = Math.floor(sealed.length / 2);
    return {
      tampered: sealed.slice(0, i) + (sealed[i] === "A" ? "B" : "A") + sealed.slice(i + 1),
      "unknown secret": await sealWith(UNKNOWN, session()),
      garbage: "not-a-session",
    };
  }

  it("sends a navigation to sign-in and clears the cookie", async () => {
    const middleware = await middlewareWith(env);
    for (const [label, value] of Object.entries(await unreadable())) {
      const response = await middleware(request("https://app.example/dashboard", value));
      expect(response.status, label).toBe(303);
      expect(response.headers.get("location"), label).toBe("https://app.example/auth/login?returnTo=%2Fdashboard");
      expect(response.headers.get("cache-control"), label).toBe("no-store");
      expect(clearsSession(response), label).toBe(true);
    }
  });

  it("answers a data request with 401 JSON, not a 500, and clears the cookie", async () => {
    const middleware = await middlewareWith(env);
    for (const [label, value] of Object.entries(await unreadable())) {
      const response = await middleware(request("https://app.example/api/notes", value, { "x-csrf": "1" }));
      expect(response.status, label).toBe(401);
      expect(await response.json(), label).toMatchObject({ error: "unauthenticated" });
      expect(clearsSession(response), label).toBe(true);
    }
  });
});

describe("the page shown while the IdP cannot be reached", () => {
  it("carries this response's nonce on its style, so the policy it is served with lets the style apply", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("fetch failed");
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const middleware = await middlewareWith({ AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST });
    const expired = session({ accessTokenExpiresAt: nowSeconds() - 1, refreshAt: nowSeconds() - 60 });
    const response = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, expired)));

    expect(response.status).toBe(503);
    const nonce = /'nonce-([^']+)'/.exec(response.headers.get("content-security-policy") ?? "")?.[1];
    const tags = [...(await response.text()).matchAll(/<(?:style|script)\b[^>]*>/g)].map(([tag]) => tag);
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
  });
});

describe("refresh failures never leave a user without a way forward", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };
  const expired = (secondsAgo: number) => session({ accessTokenExpiresAt: nowSeconds() - secondsAgo, refreshAt: nowSeconds() - secondsAgo - 60 });

  /** The IdP's discovery, a token endpoint that answers `answer`, and a revocation endpoint that records what it revokes. */
  function idpAnswering(answer: () => Response | Promise<Response>) {
    const revoked: string[] = [];
    vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url === `${ISSUER}/.well-known/openid-configuration`) {
        return Response.json({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, revocation_endpoint: `${ISSUER}/revoke` });
      }
      if (url === `${ISSUER}/revoke`) {
        revoked.push(new URLSearchParams(String(init?.body)).get("token") ?? "");
        return new Response(null, { status: 200 });
      }
      return answer();
    });
    vi.spyOn(console, "info").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    return { revoked };
  }

  it("offers, while the IdP cannot be reached, to try again or to sign out, and says when to retry", async () => {
    idpAnswering(() => Promise.reject(new TypeError("fetch failed")));
    const middleware = await middlewareWith(env);
    const response = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, expired(1))));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    const page = await response.text();
    expect(page).toContain('<a href="">Try again</a>');
    expect(page).toMatch(/<form method="post" action="\/auth\/logout"><button type="submit">sign out<\/button><\/form>/);
    expect(clearsSession(response)).toBe(false);

    const data = await middleware(request("https://app.example/api/notes", await sealWith(NEWEST, expired(1)), { "x-csrf": "1" }));
    expect(data.status).toBe(503);
    expect(data.headers.get("retry-after")).toBe("5");
    expect(await data.json()).toMatchObject({ error: "idp_unavailable" });
  });

  it("ends a session whose refresh the IdP has not answered for UNREFRESHABLE_LIMIT, counted from the first failure", async () => {
    idpAnswering(() => Promise.reject(new TypeError("fetch failed")));
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const middleware = await middlewareWith(env);
      const cookie = await sealWith(NEWEST, expired(7200));
      // Back from a long break, the first refresh fails: the session is kept.
      expect((await middleware(request("https://app.example/dashboard", cookie))).status).toBe(503);
      vi.setSystemTime(Date.now() + UNREFRESHABLE_LIMIT * 1000);
      const response = await middleware(request("https://app.example/dashboard", cookie));
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("https://app.example/auth/login?returnTo=%2Fdashboard");
      expect(clearsSession(response)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes a 4xx without an OAuth body as the end of the grant: sign in again, or 401 JSON, never 503", async () => {
    idpAnswering(() => new Response(null, { status: 400 }));
    const middleware = await middlewareWith(env);
    const page = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, expired(1))));
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("https://app.example/auth/login?returnTo=%2Fdashboard");
    expect(clearsSession(page)).toBe(true);
    const data = await middleware(request("https://app.example/api/notes", await sealWith(NEWEST, expired(1)), { "x-csrf": "1" }));
    expect(data.status).toBe(401);
    expect(await data.json()).toEqual({ error: "session_expired", reason: "refresh_refused" });
    expect(clearsSession(data)).toBe(true);
  });

  it("ends a session whose refreshed tokens no longer fit the cookie, with a page that says why, never a 500, and revokes their grant", async () => {
    const { revoked } = idpAnswering(() => Response.json({ access_token: "a".repeat(20_000), token_type: "Bearer", expires_in: 300, refresh_token: "refresh-token-2" }));
    const middleware = await middlewareWith(env);
    const page = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, expired(1))));
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("https://app.example/auth/error?error=SessionTooLarge");
    expect(clearsSession(page)).toBe(true);
    expect(writtenSession(page)).toBeUndefined();
    expect(revoked).toEqual(["refresh-token-2"]);
    const data = await middleware(request("https://app.example/api/notes", await sealWith(NEWEST, expired(1)), { "x-csrf": "1" }));
    expect(data.status).toBe(401);
    expect(await data.json()).toEqual({ error: "session_expired", reason: "session_too_large" });
    expect(clearsSession(data)).toBe(true);
  });
});

describe("a navigation another site started", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };
  const due = () => session({ refreshAt: nowSeconds() - 1 });

  it("does not refresh while the access token is still valid: that site could close the tab before the new cookie arrives", async () => {
    const idp = stubIdp();
    const middleware = await middlewareWith(env);
    const response = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, due()), { "sec-fetch-site": "cross-site" }));
    expect(idp.refreshes).toBe(0);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("refreshes as usual once the token has expired (the page could not work otherwise), and for the user's own navigations", async () => {
    const idp = stubIdp();
    const middleware = await middlewareWith(env);
    const expired = session({ accessTokenExpiresAt: nowSeconds() - 1, refreshAt: nowSeconds() - 61 });
    await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, expired), { "sec-fetch-site": "cross-site" }));
    expect(idp.refreshes).toBe(1);
    const own = session({ refreshAt: nowSeconds() - 1, refreshToken: "refresh-token-own" });
    for (const site of ["same-origin", "none"]) {
      await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, { ...own, refreshToken: `refresh-${site}` }), { "sec-fetch-site": site }));
    }
    expect(idp.refreshes).toBe(3);
  });
});

describe("with REDIS_URL, refreshes go through this instance's coordination route", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST, REDIS_URL: "redis://127.0.0.1:6379", PORT: "3105" };
  const due = () => session({ refreshAt: nowSeconds() - 1 });

  it("asks the loopback route, never the IdP, and hands its successor to the browser", async () => {
    const asked: string[] = [];
    vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
      asked.push(String(input instanceof Request ? input.url : input));
      const sent = JSON.parse(String(init?.body)) as Record<string, unknown>;
      return Response.json({ ...sent, accessToken: "access-token-2", refreshToken: "refresh-token-2", accessTokenExpiresAt: nowSeconds() + 300, refreshAt: nowSeconds() + 240 });
    });
    const middleware = await middlewareWith(env);
    const response = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, due())));
    expect(asked).toEqual(["http://127.0.0.1:3105/internal/refresh"]);
    const written = writtenSession(response);
    expect(written).toBeDefined();
    expect(await createSessionCodec([NEWEST], NAME).open(written!)).toMatchObject({ refreshToken: "refresh-token-2" });
  });

  it("answers 503, keeping the session, when the refresh cannot be coordinated, even while the token is still valid", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.stubGlobal("fetch", async () => Promise.reject(new TypeError("fetch failed")));
    const middleware = await middlewareWith(env);
    const page = await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, due())));
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("Tessera is briefly unavailable");
    expect(page.headers.getSetCookie()).toEqual([]);
    const data = await middleware(request("https://app.example/api/notes", await sealWith(NEWEST, session({ refreshAt: nowSeconds() - 1, refreshToken: "rt-other" })), { "x-csrf": "1" }));
    expect(data.status).toBe(503);
    expect(data.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await data.json()).toMatchObject({ error: "service_unavailable" });
    expect(data.headers.getSetCookie()).toEqual([]);
  });
});

describe("traced as tessera.middleware, whose trace the route handler continues", () => {
  const env = { AUTH_URL: "https://app.example", OIDC_ISSUER: ISSUER, AUTH_SECRET: NEWEST };
  const telemetry = useTelemetry();
  const CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
  const CLIENT_SPAN = "b7ad6b7169203331";
  const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;

  it("continues the traceparent the request came with, and hands the route handler its own span in place of it", async () => {
    const middleware = await middlewareWith(env);
    const response = await middleware(request("https://app.example/api/notes", await sealWith(NEWEST, session()), { "x-csrf": "1", traceparent }));
    const span = telemetry.span("tessera.middleware");
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.parentSpanContext).toMatchObject({ traceId: CLIENT_TRACE, spanId: CLIENT_SPAN });
    expect(span.attributes).toEqual({ "tessera.request.kind": "data", "http.response.status_code": 200 });
    expect(response.headers.get("x-middleware-request-traceparent")).toBe(`00-${CLIENT_TRACE}-${span.spanContext().spanId}-01`);
    expect(telemetry.span("tessera.session.read").parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it("traces a due refresh inside it, its calls to the IdP inside the refresh, and counts it", async () => {
    stubIdp();
    const middleware = await middlewareWith(env);
    const due = session({ refreshAt: nowSeconds() - 1 });
    await middleware(request("https://app.example/dashboard", await sealWith(NEWEST, due)));
    const outer = telemetry.span("tessera.middleware");
    const refresh = telemetry.span("tessera.refresh");
    expect(outer.attributes["tessera.request.kind"]).toBe("page");
    expect(refresh.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(refresh.attributes["tessera.outcome"]).toBe("refreshed");
    for (const call of ["idp discovery", "idp token"]) expect(telemetry.span(call).parentSpanContext?.spanId).toBe(refresh.spanContext().spanId);
    expect(await telemetry.collectMetric("tessera.refreshes")).toEqual([{ attributes: { "tessera.outcome": "refreshed" }, value: 1 }]);
    expect(await telemetry.total("tessera.idp.request.duration", { "tessera.idp.endpoint": "token", "http.response.status_code": 200 })).toBe(1);
    expect(await telemetry.total("tessera.session.cookie.size")).toBe(1);
  });
});
