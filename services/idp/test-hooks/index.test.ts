import { request as httpRequest } from "node:http";
import { createLocalJWKSet, decodeProtectedHeader, decodeJwt, jwtVerify, type JSONWebKeySet } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authorizationRequest, authorize, signIn, startTestIdp, tokenRequest, type TestIdp } from "../testing/test-idp";
import { USERS } from "../users/users";

const alice = USERS.find((user) => user.username === "alice")!;
const bob = USERS.find((user) => user.username === "bob")!;
const BOB = { username: "bob", password: "builder" };

let test: TestIdp;

const TOKEN = "a-test-hooks-token-of-at-least-32-characters";

beforeEach(async () => {
  test = await startTestIdp({ testHooks: { token: TOKEN } });
});

afterEach(async () => {
  await test?.close();
});

const hookUrl = (name: string, params: Record<string, string> = {}) => {
  const url = new URL(`/__test/${name}`, test.config.issuer);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
};

const hook = (method: string, name: string, params: Record<string, string> = {}) =>
  fetch(hookUrl(name, params), { method, headers: { "x-test-hooks-token": TOKEN } });

/** A hook request with the `Host` header given (fetch sets its own). */
const hookWithHost = (host: string, method: string, name: string, params: Record<string, string> = {}) =>
  new Promise<{ status: number; contentType: string | undefined }>((resolve, reject) => {
    const request = httpRequest(hookUrl(name, params), { method, headers: { host, "x-test-hooks-token": TOKEN } }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, contentType: response.headers["content-type"] }));
    });
    request.on("error", reject);
    request.end();
  });

const stats = async (params: Record<string, string> = {}) => {
  const response = await hook("GET", "stats", params);
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as Record<string, number>;
};

const refresh = (refreshToken: string) =>
  tokenRequest(test, { grant_type: "refresh_token", refresh_token: refreshToken });

const discovery = () => fetch(new URL("/.well-known/openid-configuration", test.config.issuer));

describe("tokens", () => {
  it("exposes the latest tokens issued for a subject", async () => {
    expect((await hook("GET", "tokens", { sub: alice.sub })).status).toBe(404);
    expect((await hook("GET", "tokens")).status).toBe(400);

    const { tokens } = await signIn(test);
    const captured = await hook("GET", "tokens", { sub: alice.sub });
    expect(captured.status).toBe(200);
    expect(captured.headers.get("cache-control")).toBe("no-store");
    expect(await captured.json()).toEqual({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      id_token: tokens.id_token,
    });

    const refreshed = await refresh(tokens.refresh_token!);
    const latest = (await (await hook("GET", "tokens", { sub: alice.sub })).json()) as Record<string, unknown>;
    expect(latest.refresh_token).toBe(refreshed.body.refresh_token);
  });
});

describe("stats", () => {
  it("counts code exchanges, refreshes and failed refreshes per subject", async () => {
    const zero = { refreshGrants: 0, codeGrants: 0, refreshFailures: 0 };
    expect(await stats({ sub: alice.sub })).toEqual(zero);

    const { tokens } = await signIn(test);
    await signIn(test, BOB);
    const first = await refresh(tokens.refresh_token!);
    const second = await refresh(first.body.refresh_token as string);
    expect(second.status).toBe(200);
    expect(await stats({ sub: alice.sub })).toEqual({ refreshGrants: 2, codeGrants: 1, refreshFailures: 0 });

    // Replaying a spent refresh token fails, and so does the rotated one: the replay revoked the whole grant.
    expect((await refresh(tokens.refresh_token!)).body.error).toBe("invalid_grant");
    expect((await refresh(second.body.refresh_token as string)).body.error).toBe("invalid_grant");
    expect(await stats({ sub: alice.sub })).toEqual({ refreshGrants: 2, codeGrants: 1, refreshFailures: 2 });
    expect(await stats({ sub: bob.sub })).toEqual({ refreshGrants: 0, codeGrants: 1, refreshFailures: 0 });
    expect(await stats({ sub: "nobody" })).toEqual(zero);
  });

  it("counts a refresh token it never issued in the totals only", async () => {
    await signIn(test);
    expect((await refresh("not-a-refresh-token")).body.error).toBe("invalid_grant");

    expect(await stats()).toEqual({ refreshGrants: 0, codeGrants: 1, refreshFailures: 1 });
    expect((await stats({ sub: alice.sub })).refreshFailures).toBe(0);
  });
});

describe("revoke", () => {
  it("revokes the subject's grants so the next refresh fails, and keeps the IdP session", async () => {
    const { tokens, browser } = await signIn(test);
    const other = await signIn(test);
    const bobs = await signIn(test, BOB);

    const revoked = await hook("POST", "revoke", { sub: alice.sub });
    expect(revoked.status).toBe(204);
    expect(revoked.headers.get("cache-control")).toBe("no-store");

    for (const refreshToken of [tokens.refresh_token!, other.tokens.refresh_token!]) {
      const attempt = await refresh(refreshToken);
      expect(attempt.status).toBe(400);
      expect(attempt.body.error).toBe("invalid_grant");
    }
    expect((await stats({ sub: alice.sub })).refreshFailures).toBe(2);
    expect((await refresh(bobs.tokens.refresh_token!)).status).toBe(200);
    expect(test.backchannelDeliveries).toEqual([]);

    // The browser is still signed in at the IdP: no login page, and the new grant refreshes again.
    const request = authorizationRequest(test);
    const callback = await authorize(test, browser, request);
    const exchanged = await tokenRequest(test, {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code")!,
      redirect_uri: test.redirectUri,
      code_verifier: request.codeVerifier,
    });
    expect(exchanged.status).toBe(200);
    expect((await refresh(exchanged.body.refresh_token as string)).status).toBe(200);
  });

  it("requires a subject and accepts one without grants", async () => {
    expect((await hook("POST", "revoke")).status).toBe(400);
    expect((await hook("POST", "revoke", { sub: "nobody" })).status).toBe(204);
  });
});

describe("end-session", () => {
  it("ends the subject's IdP sessions with back-channel logout, as signing out at the IdP does", async () => {
    const jwks = createLocalJWKSet((await (await fetch(new URL("/jwks", test.config.issuer))).json()) as JSONWebKeySet);
    const first = await signIn(test);
    const second = await signIn(test);
    const bobs = await signIn(test, BOB);
    const sids = [first, second].map(({ tokens }) => decodeJwt(tokens.access_token!).sid);

    const response = await hook("POST", "end-session", { sub: alice.sub });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ sessions: 2, delivered: 2, failed: 0 });

    expect(test.backchannelDeliveries).toHaveLength(2);
    const delivered = [];
    for (const delivery of test.backchannelDeliveries) {
      expect(delivery.path).toBe("/auth/backchannel-logout");
      expect(delivery.contentType).toBe("application/x-www-form-urlencoded");
      const logoutToken = delivery.body.get("logout_token")!;
      expect(decodeProtectedHeader(logoutToken).typ).toBe("logout+jwt");
      const { payload } = await jwtVerify(logoutToken, jwks, { issuer: test.config.issuer, audience: test.config.clientId });
      expect(payload).toMatchObject({ sub: alice.sub, events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
      delivered.push(payload.sid);
    }
    expect(delivered.sort()).toEqual([...sids].sort());

    for (const { tokens } of [first, second]) expect((await refresh(tokens.refresh_token!)).body.error).toBe("invalid_grant");
    const again = await first.browser.follow(authorizationRequest(test).url, test.config.issuer);
    expect(again.leftTo).toBeUndefined();
    expect(await again.response.text()).toContain('name="password"');

    expect((await refresh(bobs.tokens.refresh_token!)).status).toBe(200);
    const bobAgain = await authorize(test, bobs.browser, authorizationRequest(test));
    expect(bobAgain.searchParams.get("code")).toBeTruthy();

    expect(await (await hook("POST", "end-session", { sub: alice.sub })).json()).toEqual({
      sessions: 0,
      delivered: 0,
      failed: 0,
    });
  });

  it("with subject-only=1, names the user and no session in its logout tokens", async () => {
    const jwks = createLocalJWKSet((await (await fetch(new URL("/jwks", test.config.issuer))).json()) as JSONWebKeySet);
    const { tokens } = await signIn(test);

    const response = await hook("POST", "end-session", { sub: alice.sub, "subject-only": "1" });
    expect(await response.json()).toEqual({ sessions: 1, delivered: 1, failed: 0 });
    const logoutToken = test.backchannelDeliveries[0]!.body.get("logout_token")!;
    const { payload } = await jwtVerify(logoutToken, jwks, { issuer: test.config.issuer, audience: test.config.clientId });
    expect(payload).toMatchObject({ sub: alice.sub, events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
    expect(payload).not.toHaveProperty("sid");
    expect((await refresh(tokens.refresh_token!)).body.error).toBe("invalid_grant");
  });

  it("reports a delivery the web app refuses, and still ends the session", async () => {
    const { tokens } = await signIn(test);
    test.answerBackchannelWith(400);

    const response = await hook("POST", "end-session", { sub: alice.sub });
    expect(await response.json()).toEqual({ sessions: 1, delivered: 0, failed: 1 });
    expect(test.backchannelDeliveries).toHaveLength(1);
    expect((await refresh(tokens.refresh_token!)).body.error).toBe("invalid_grant");
  });

  it("requires a subject", async () => {
    expect((await hook("POST", "end-session")).status).toBe(400);
  });
});

describe("outage", () => {
  it("drops every request but the hooks' own without a response, until lifted", async () => {
    const { tokens, browser } = await signIn(test);
    expect((await discovery()).status).toBe(200);
    expect(await (await hook("GET", "outage")).json()).toEqual({ down: false });

    const down = await hook("POST", "outage", { down: "1" });
    expect(down.status).toBe(204);
    expect(await (await hook("GET", "outage")).json()).toEqual({ down: true });

    // Both on the connection kept alive from before and on a new one.
    await expect(discovery()).rejects.toThrow(TypeError);
    await expect(discovery()).rejects.toThrow(TypeError);
    await expect(refresh(tokens.refresh_token!)).rejects.toThrow(TypeError);
    await expect(browser.request(authorizationRequest(test).url)).rejects.toThrow(TypeError);
    expect(await stats({ sub: alice.sub })).toEqual({ refreshGrants: 0, codeGrants: 1, refreshFailures: 0 });

    expect((await hook("POST", "outage", { down: "0" })).status).toBe(204);
    expect((await discovery()).status).toBe(200);
    expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  });

  it("refuses a state other than 1 or 0", async () => {
    for (const value of ["", "true", "2"]) {
      expect((await hook("POST", "outage", { down: value })).status).toBe(400);
    }
    expect((await hook("POST", "outage")).status).toBe(400);
    expect(await (await hook("GET", "outage")).json()).toEqual({ down: false });
  });
});

describe("big-claims", () => {
  const padding = (token: string | undefined) => decodeJwt(token ?? "").test_padding;

  it("pads the subject's ID and access tokens, through refreshes, until stopped", async () => {
    expect((await hook("POST", "big-claims", { sub: bob.sub, bytes: "3000" })).status).toBe(204);

    const bobs = await signIn(test, BOB);
    expect(padding(bobs.tokens.id_token)).toHaveLength(3000);
    expect(padding(bobs.tokens.access_token)).toHaveLength(3000);
    const refreshed = await refresh(bobs.tokens.refresh_token!);
    expect(padding(refreshed.body.access_token as string)).toHaveLength(3000);
    expect(padding(refreshed.body.id_token as string)).toHaveLength(3000);

    // Only that subject's tokens are padded, and the padding adds to the access token's claims without replacing any.
    const { tokens } = await signIn(test);
    expect(padding(tokens.id_token)).toBeUndefined();
    expect(padding(tokens.access_token)).toBeUndefined();
    expect(decodeJwt(bobs.tokens.access_token!)).toMatchObject({ sub: bob.sub, aud: test.config.apiAudience });

    const stopped = await hook("DELETE", "big-claims", { sub: bob.sub });
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get("cache-control")).toBe("no-store");
    expect(padding((await signIn(test, BOB)).tokens.id_token)).toBeUndefined();
  });

  it("stops with bytes=0 too", async () => {
    await hook("POST", "big-claims", { sub: alice.sub, bytes: "100" });
    expect(padding((await signIn(test)).tokens.id_token)).toHaveLength(100);
    expect((await hook("POST", "big-claims", { sub: alice.sub, bytes: "0" })).status).toBe(204);
    expect(padding((await signIn(test)).tokens.id_token)).toBeUndefined();
  });

  it("refuses a missing subject and a size that is not an integer from 0 to 64 KiB", async () => {
    expect((await hook("POST", "big-claims", { bytes: "10" })).status).toBe(400);
    expect((await hook("DELETE", "big-claims")).status).toBe(400);
    for (const bytes of ["", "-1", "1.5", "1e3", "x", String(64 * 1024 + 1)]) {
      expect((await hook("POST", "big-claims", { sub: alice.sub, bytes })).status, bytes).toBe(400);
    }
    expect((await hook("POST", "big-claims", { sub: alice.sub })).status).toBe(400);
    expect(padding((await signIn(test)).tokens.id_token)).toBeUndefined();
  });
});

describe("issued", () => {
  it("lists every token the token endpoint issued, of every kind, oldest first", async () => {
    const empty = await hook("GET", "issued");
    expect(empty.status).toBe(200);
    expect(empty.headers.get("cache-control")).toBe("no-store");
    expect(await empty.json()).toEqual({ accessTokens: [], refreshTokens: [], idTokens: [], authorizationCodes: [] });

    const first = await signIn(test);
    const second = await signIn(test, BOB);
    const refreshed = await refresh(first.tokens.refresh_token!);
    const issued = (await (await hook("GET", "issued")).json()) as Record<string, string[]>;
    expect(issued).toEqual({
      accessTokens: [first.tokens.access_token, second.tokens.access_token, refreshed.body.access_token],
      refreshTokens: [first.tokens.refresh_token, second.tokens.refresh_token, refreshed.body.refresh_token],
      idTokens: [first.tokens.id_token, second.tokens.id_token, refreshed.body.id_token],
      authorizationCodes: [expect.any(String), expect.any(String)],
    });
    // The two codes the sign-ins redeemed: distinct, and long enough to be looked for.
    expect(new Set(issued.authorizationCodes).size).toBe(2);
    for (const code of issued.authorizationCodes!) expect(code.length).toBeGreaterThanOrEqual(16);
  });
});

describe("access", () => {
  const port = () => new URL(test.config.issuer).port;

  it("treats a request without the token, or with another, as if there were no hooks", async () => {
    const { tokens } = await signIn(test);
    const refused: Record<string, string>[] = [{}, { "x-test-hooks-token": "wrong" }, { "x-test-hooks-token": TOKEN.slice(0, -1) }, { "x-test-hooks-token": `${TOKEN}x` }];
    for (const headers of refused) {
      for (const [method, name] of [["GET", "issued"], ["GET", "tokens"], ["POST", "revoke"], ["POST", "end-session"], ["POST", "outage"]] as const) {
        const response = await fetch(hookUrl(name, { sub: alice.sub, down: "1" }), { method, headers });
        // oidc-provider's own 404, as with the hooks off (app.test.ts).
        expect(response.status, `${method} ${name}`).toBe(404);
        expect(response.headers.get("content-type"), `${method} ${name}`).not.toContain("application/json");
      }
    }
    // Nothing happened: no outage, no revocation, no ended session.
    expect((await discovery()).status).toBe(200);
    expect((await refresh(tokens.refresh_token!)).status).toBe(200);
    expect(test.backchannelDeliveries).toEqual([]);
  });

  it("refuses the right token sent to a name other than loopback's, as DNS rebinding would", async () => {
    for (const host of [`attacker.example:${port()}`, "attacker.example", `localhost.attacker.example:${port()}`, "127.0.0.1:1"]) {
      const response = await hookWithHost(host, "GET", "issued");
      expect(response.status, host).toBe(404);
      expect(response.contentType, host).not.toContain("application/json");
    }
  });

  it("serves the right token at each loopback name with the IdP's port", async () => {
    for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, `[::1]:${port()}`]) {
      expect(await hookWithHost(host, "GET", "issued"), host).toEqual({ status: 200, contentType: "application/json" });
    }
  });

  it("during an outage, drops a hook request without the token as any other request", async () => {
    expect((await hook("POST", "outage", { down: "1" })).status).toBe(204);
    await expect(fetch(hookUrl("outage", { down: "0" }), { method: "POST" })).rejects.toThrow(TypeError);
    expect(await (await hook("GET", "outage")).json()).toEqual({ down: true });
    expect((await hook("POST", "outage", { down: "0" })).status).toBe(204);
  });
});

describe("routing", () => {
  it("answers unknown hooks with 404 and wrong methods with 405 and the allowed ones", async () => {
    for (const name of ["nope", "constructor", "stats/extra", ""]) {
      const response = await hook("GET", name);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "not_found" });
    }

    for (const [method, name, allow] of [
      ["POST", "tokens", "GET"],
      ["POST", "stats", "GET"],
      ["GET", "revoke", "POST"],
      ["GET", "end-session", "POST"],
      ["DELETE", "outage", "GET, POST"],
      ["GET", "big-claims", "POST, DELETE"],
      ["POST", "issued", "GET"],
    ] as const) {
      const response = await hook(method, name, { sub: alice.sub });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe(allow);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.json()).toEqual({ error: "method_not_allowed" });
    }
  });
});
