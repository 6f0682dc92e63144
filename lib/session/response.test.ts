import { NextRequest, NextResponse } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSessionCookie, sealSession } from "./seal";
import type { Session } from "./session";
import { CHUNK_SIZE, COOKIE_NAMES, type CookieLike } from "./cookies";
import { idTokenFor } from "./id-token-cookie";
import { clearSessionCookies, continueWithSession, withFreshHint } from "./response";
import { sessionFixture } from "@/lib/testing/fixtures";
import { parseSetCookie, type SetCookie } from "@/lib/testing/set-cookie";

const NAME = COOKIE_NAMES.session;
const URL_ = "https://app.example/dashboard";

beforeAll(() => {
  // The seal reads its secret through getConfig() on first use.
  process.env.AUTH_SECRET = "unit-test-secret-0123456789abcdef-0123456789";
});
afterAll(() => {
  delete process.env.AUTH_SECRET;
});

function session(overrides: Partial<Session> = {}): Session {
  return sessionFixture({ accessToken: "new-access-token", refreshToken: "new-refresh-token", idToken: undefined, ...overrides });
}

function request(cookie: string, headers: Record<string, string> = {}): NextRequest {
  return new NextRequest(URL_, { headers: { cookie, ...headers } });
}

/** As the middleware calls it: with a copy of the request's headers, which the route behind will see. */
const continueWith = (req: NextRequest, next: Session) => continueWithSession(req, new Headers(req.headers), next);

const allSetCookies = (response: Response): SetCookie[] => response.headers.getSetCookie().map(parseSetCookie);

/** The session's cookies: everything but the freshness hint, which has tests of its own below. */
const setCookies = (response: Response) => allSetCookies(response).filter((c) => c.name !== COOKIE_NAMES.fresh);
const freshHints = (response: Response) => allSetCookies(response).filter((c) => c.name === COOKIE_NAMES.fresh);

const written = (response: Response) => setCookies(response).filter((c) => c.attributes.get("max-age") !== "0");
const deleted = (response: Response) =>
  setCookies(response)
    .filter((c) => c.attributes.get("max-age") === "0")
    .map((c) => c.name);

/** The cookie header that the rest of the app will see for this request, parsed the way Next.js parses it. */
function forwardedCookies(response: Response): CookieLike[] {
  const header = response.headers.get("x-middleware-request-cookie");
  if (header === null) throw new Error("the request's cookie header was not rewritten");
  return request(header).cookies.getAll();
}

/** The cookie header of a browser holding an old session in `n` chunks (the module never opens the old one). */
const oldChunks = (n: number) => Array.from({ length: n }, (_, i) => `${NAME}.${i}=old-chunk-${i}`).join("; ");

describe("continueWithSession: the browser's cookie", () => {
  it("sets the session cookie under its plain name for a small session", async () => {
    const response = await continueWith(request("theme=dark"), session());
    expect(written(response).map((c) => c.name)).toEqual([NAME]);
  });

  it("stores a value that opens to the new session", async () => {
    const fresh = session();
    const response = await continueWith(request(`${NAME}=old`), fresh);
    expect(await readSessionCookie(written(response))).toEqual(fresh);
  });

  it("marks the cookie HttpOnly, Secure, SameSite=lax and Path=/", async () => {
    const response = await continueWith(request(""), session());
    const [cookie] = written(response);
    expect(cookie?.attributes.has("httponly")).toBe(true);
    expect(cookie?.attributes.has("secure")).toBe(true);
    expect(cookie?.attributes.get("samesite")?.toLowerCase()).toBe("lax");
    expect(cookie?.attributes.get("path")).toBe("/");
  });

  it("sets no Domain, as the __Host- prefix requires", async () => {
    const response = await continueWith(request(""), session());
    for (const cookie of setCookies(response)) expect(cookie.attributes.has("domain")).toBe(false);
  });

  it("expires the cookie when the session ends", async () => {
    const fresh = session();
    const response = await continueWith(request(""), fresh);
    const [cookie] = written(response);
    expect(cookie?.attributes.get("expires")).toBe(new Date(fresh.expiresAt * 1000).toUTCString());
  });

  it("splits a large session into chunks that each fit in a cookie", async () => {
    const response = await continueWith(request(""), session({ name: "x".repeat(7_000) }));
    const cookies = written(response);
    expect(cookies.length).toBeGreaterThan(1);
    expect(cookies.map((c) => c.name)).toEqual(cookies.map((_, i) => `${NAME}.${i}`));
    for (const cookie of cookies) expect(cookie.value.length).toBeLessThanOrEqual(CHUNK_SIZE);
  });

  it("writes chunks that join and open to the large session", async () => {
    const large = session({ name: "x".repeat(7_000) });
    const response = await continueWith(request(""), large);
    expect(await readSessionCookie(written(response))).toEqual(large);
  });

  it("gives every chunk the cookie attributes", async () => {
    const response = await continueWith(request(""), session({ name: "x".repeat(7_000) }));
    for (const cookie of written(response)) {
      expect(cookie.attributes.has("httponly")).toBe(true);
      expect(cookie.attributes.has("secure")).toBe(true);
      expect(cookie.attributes.get("path")).toBe("/");
      expect(cookie.attributes.has("expires")).toBe(true);
    }
  });

  it("deletes stale chunks of a larger old session with Max-Age=0", async () => {
    const response = await continueWith(request(`${oldChunks(3)}; theme=dark`), session());
    expect(deleted(response).sort()).toEqual([`${NAME}.0`, `${NAME}.1`, `${NAME}.2`]);
  });

  it("deletes only the chunks the new session no longer uses", async () => {
    const response = await continueWith(request(`${NAME}=stray; ${oldChunks(3)}`), session({ name: "x".repeat(5000) }));
    expect(written(response).map((c) => c.name)).toEqual([`${NAME}.0`, `${NAME}.1`]);
    expect(deleted(response).sort()).toEqual([NAME, `${NAME}.2`].sort());
  });

  it("deletes stale chunks with Secure and Path=/, or a browser would ignore the deletion of a __Host- cookie", async () => {
    const response = await continueWith(request(oldChunks(2)), session());
    const deletions = setCookies(response).filter((c) => c.attributes.get("max-age") === "0");
    expect(deletions.length).toBe(2);
    for (const cookie of deletions) {
      expect(cookie.attributes.has("secure")).toBe(true);
      expect(cookie.attributes.get("path")).toBe("/");
    }
  });

  it("writes no cookie other than the session's and its freshness hint", async () => {
    const response = await continueWith(request("theme=dark; other=1"), session());
    for (const cookie of allSetCookies(response)) expect([NAME, COOKIE_NAMES.fresh]).toContain(cookie.name);
  });

  it("stores a refreshed session's new ID token in its own cookie, bound to the session, and never in the session cookie", async () => {
    const next = session({ idToken: "header.id-token-payload.signature" });
    const response = await continueWith(request(`${NAME}=old`), next);
    const idTokenCookie = written(response).find((c) => c.name === COOKIE_NAMES.idToken);
    expect(idTokenCookie?.attributes.get("path")).toBe("/auth/logout");
    expect(await idTokenFor(next, idTokenCookie?.value)).toBe("header.id-token-payload.signature");
    expect(await idTokenFor({ ...next, id: "another-session" }, idTokenCookie?.value)).toBeUndefined();
    const stored = await readSessionCookie(written(response).filter((c) => c.name.startsWith(NAME)).map(({ name, value }) => ({ name, value })));
    expect(stored?.idToken).toBeUndefined();
    expect(JSON.stringify(written(response).filter((c) => c.name !== COOKIE_NAMES.idToken))).not.toContain("id-token-payload");
  });

  it("deletes the older ID token's cookie when a refresh brings one too large to keep, rather than leave a stale hint", async () => {
    const info = console.info;
    console.info = () => {};
    try {
      const response = await continueWith(request(`${NAME}=old`), session({ idToken: "i".repeat(5000) }));
      const idToken = setCookies(response).filter((c) => c.name === COOKIE_NAMES.idToken);
      expect(idToken.map((c) => c.attributes.get("max-age"))).toEqual(["0"]);
    } finally {
      console.info = info;
    }
  });

  it("gives the browser a freshness hint that lapses when the new token is due for refresh", async () => {
    const next = session();
    const now = next.refreshAt - 240;
    const response = await continueWithSession(request(`${COOKIE_NAMES.fresh}=1`), new Headers(), next, now);
    const [hint, ...others] = freshHints(response);
    expect(others).toEqual([]);
    expect(hint?.value).toBe("1");
    expect(hint?.attributes.get("max-age")).toBe("240");
    for (const flag of ["secure", "httponly"]) expect(hint?.attributes.has(flag)).toBe(true);
    expect(hint?.attributes.get("path")).toBe("/");
  });

  it("forbids caching the response", async () => {
    const response = await continueWith(request(""), session());
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

describe("continueWithSession: the request passed on", () => {
  it("continues to the route (NextResponse.next)", async () => {
    const response = await continueWith(request(""), session());
    expect(response.headers.get("x-middleware-next")).toBe("1");
  });

  it("overrides the request's cookie header", async () => {
    const response = await continueWith(request(`${NAME}=old`), session());
    expect(response.headers.get("x-middleware-override-headers")?.split(",")).toContain("cookie");
  });

  it("gives the rest of the app the new session", async () => {
    const fresh = session();
    const response = await continueWith(request(`${NAME}=old; theme=dark`), fresh);
    expect(await readSessionCookie(forwardedCookies(response))).toEqual(fresh);
  });

  it("gives the rest of the app a chunked new session", async () => {
    const large = session({ name: "x".repeat(7_000) });
    const response = await continueWith(request(`${NAME}=old`), large);
    expect(await readSessionCookie(forwardedCookies(response))).toEqual(large);
  });

  it("drops the old session's cookies from the request", async () => {
    const response = await continueWith(request(`${oldChunks(3)}; theme=dark`), session());
    expect(forwardedCookies(response).map((c) => c.name)).toEqual(["theme", NAME]);
  });

  it("keeps the request's other cookies", async () => {
    const response = await continueWith(request(`theme=dark; ${NAME}=old; ${COOKIE_NAMES.csrf}=token-1`), session());
    const cookies = forwardedCookies(response);
    expect(cookies).toContainEqual({ name: "theme", value: "dark" });
    expect(cookies).toContainEqual({ name: COOKIE_NAMES.csrf, value: "token-1" });
  });

  it("keeps another cookie whose value is percent-encoded, without splitting it or planting cookies", async () => {
    // "a=1; b=2" percent-encoded, as Next.js and Auth.js write cookie values.
    const response = await continueWith(request(`prefs=a%3D1%3B%20b%3D2; ${NAME}=old`), session());
    const cookies = forwardedCookies(response);
    expect(cookies).toContainEqual({ name: "prefs", value: "a=1; b=2" });
    expect(cookies.map((c) => c.name).sort()).toEqual([NAME, "prefs"].sort());
  });

  it("does not let another cookie's encoded value smuggle a session chunk into the request", async () => {
    // A cookie without the __Host- prefix can be planted from a sibling subdomain; its (encoded) value
    // must not turn into a session chunk that the rest of the app would prefer over the real session.
    const fresh = session();
    const attackers = await sealSession(session({ sub: "mallory", accessToken: "mallorys-token" }));
    const planted = encodeURIComponent(`x; ${NAME}.0=${attackers}`);
    const response = await continueWith(request(`tracker=${planted}; ${NAME}=old`), fresh);
    expect(await readSessionCookie(forwardedCookies(response))).toEqual(fresh);
  });

  it("keeps the request's other headers", async () => {
    const response = await continueWith(request("", { "x-request-id": "req-42" }), session());
    expect(response.headers.get("x-middleware-request-x-request-id")).toBe("req-42");
  });

  it("passes on the headers it was given, such as a CSP the middleware added", async () => {
    const req = request(`${NAME}=old`);
    const headers = new Headers(req.headers);
    headers.set("content-security-policy", "script-src 'nonce-abc'");
    const response = await continueWithSession(req, headers, session());
    expect(response.headers.get("x-middleware-request-content-security-policy")).toBe("script-src 'nonce-abc'");
  });
});

describe("withFreshHint", () => {
  it("gives the hint to a browser that came without one", () => {
    const next = session();
    const response = withFreshHint(request(`${NAME}=w`), new Response(null), next, next.refreshAt - 100);
    expect(freshHints(response).map((c) => [c.value, c.attributes.get("max-age")])).toEqual([["1", "100"]]);
  });

  it("writes nothing when less than a second is left before the refresh is due", () => {
    const next = session();
    expect(withFreshHint(request(`${NAME}=w`), new Response(null), next, next.refreshAt - 0.5).headers.getSetCookie()).toEqual([]);
  });

  it("writes nothing when the browser has the hint already", () => {
    const next = session();
    const response = withFreshHint(request(`${NAME}=w; ${COOKIE_NAMES.fresh}=1`), new Response(null), next, next.refreshAt - 100);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("clearSessionCookies", () => {
  it("takes the freshness hint away with the session", () => {
    const response = clearSessionCookies(request(`${NAME}=w; ${COOKIE_NAMES.fresh}=1`), new Response(null));
    expect(freshHints(response).map((c) => c.attributes.get("max-age"))).toEqual(["0"]);
  });

  it("deletes every session cookie and chunk the request carried", () => {
    const response = clearSessionCookies(request(`${NAME}=w; ${NAME}.0=a; ${NAME}.1=b; theme=dark`), new Response(null));
    expect(deleted(response).sort()).toEqual([NAME, `${NAME}.0`, `${NAME}.1`, COOKIE_NAMES.idToken].sort());
  });

  it("leaves other cookies alone", () => {
    const response = clearSessionCookies(request(`${NAME}.0=a; theme=dark; ${COOKIE_NAMES.csrf}=t`), new Response(null));
    expect(setCookies(response).map((c) => c.name)).toEqual([`${NAME}.0`, COOKIE_NAMES.idToken]);
  });

  it("deletes the ID token's cookie, which the request never carries (it travels only to sign-out), on its own path", () => {
    const response = clearSessionCookies(request(`${NAME}=w`), new Response(null));
    const idToken = setCookies(response).find((c) => c.name === COOKIE_NAMES.idToken);
    expect(idToken?.attributes.get("max-age")).toBe("0");
    expect(idToken?.attributes.get("path")).toBe("/auth/logout");
    expect(idToken?.attributes.has("secure")).toBe(true);
  });

  it("deletes with Secure, HttpOnly and Path=/, as a __Host- cookie needs", () => {
    const response = clearSessionCookies(request(`${NAME}=w`), new Response(null));
    const [cookie] = setCookies(response);
    expect(cookie?.attributes.get("max-age")).toBe("0");
    expect(cookie?.attributes.has("secure")).toBe(true);
    expect(cookie?.attributes.has("httponly")).toBe(true);
    expect(cookie?.attributes.get("path")).toBe("/");
  });

  it("writes nothing when the request carried no session cookie", () => {
    const response = clearSessionCookies(request("theme=dark"), new Response(null));
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("returns the response it was given, keeping its status and headers", () => {
    const original = NextResponse.json({ error: "signed_out" }, { status: 401 });
    const response = clearSessionCookies(request(`${NAME}=w`), original);
    expect(response).toBe(original);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/json/);
  });

  it("keeps the Set-Cookie headers the response already had", () => {
    const original = new Response(null, { headers: { "set-cookie": "theme=light; Path=/" } });
    const response = clearSessionCookies(request(`${NAME}=w`), original);
    expect(response.headers.getSetCookie()).toHaveLength(3);
  });
});
