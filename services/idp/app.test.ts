import { createHash } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INVALID_CREDENTIALS_MESSAGE } from "./pages/login-page";
import { TestBrowser, readForm } from "./testing/browser";
import {
  authorizationRequest,
  authorize,
  basicAuth,
  signIn,
  startTestIdp,
  tokenRequest,
  type TestIdp,
} from "./testing/test-idp";
import { USERS } from "./users/users";

const alice = USERS.find((user) => user.username === "alice")!;

let test: TestIdp;
let jwks: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  test = await startTestIdp();
  const response = await fetch(new URL("/jwks", test.config.issuer));
  jwks = createLocalJWKSet((await response.json()) as JSONWebKeySet);
});

afterAll(async () => {
  await test?.close();
});

const verifyAccessToken = (token: string) =>
  jwtVerify(token, jwks, {
    issuer: test.config.issuer,
    audience: test.config.apiAudience,
    typ: "at+jwt",
    algorithms: ["ES256"],
  });

const verifyIdToken = (token: string) =>
  jwtVerify(token, jwks, { issuer: test.config.issuer, audience: test.config.clientId, algorithms: ["RS256"] });

describe("discovery and keys", () => {
  it("publishes the endpoints the web app relies on", async () => {
    const response = await fetch(new URL("/.well-known/openid-configuration", test.config.issuer));
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: test.config.issuer,
      authorization_endpoint: `${test.config.issuer}/auth`,
      token_endpoint: `${test.config.issuer}/token`,
      jwks_uri: `${test.config.issuer}/jwks`,
      end_session_endpoint: `${test.config.issuer}/session/end`,
      revocation_endpoint: `${test.config.issuer}/token/revocation`,
      userinfo_endpoint: `${test.config.issuer}/me`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(["openid", "profile", "email", "offline_access"]));
    expect(metadata).not.toHaveProperty("introspection_endpoint");
  });

  it("serves the public ES256 and RS256 signing keys, never the private parts", async () => {
    const response = await fetch(new URL("/jwks", test.config.issuer));
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys.map((key) => key.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const key of keys) {
      expect(key).toMatchObject({ use: "sig", kid: expect.any(String) });
      expect(key).not.toHaveProperty("d");
    }
  });
});

describe("login page", () => {
  it("renders an accessible, escaped sign-in form with a strict CSP", async () => {
    const browser = new TestBrowser();
    const { response } = await browser.follow(authorizationRequest(test).url, test.config.issuer);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Tessera development IdP");
    expect(html).toMatch(/<label for="username">Username<\/label>\s*<input id="username" name="username"/);
    expect(html).toMatch(/<label for="password">Password<\/label>\s*<input id="password" name="password" type="password"/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`form-action 'self' ${test.webAppOrigin}`);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("answers a wrong password and an unknown user with the same generic error, echoing input escaped", async () => {
    const browser = new TestBrowser();
    const { response } = await browser.follow(authorizationRequest(test).url, test.config.issuer);
    const { action } = readForm(await response.text());
    const submit = (username: string, password: string) =>
      browser.request(new URL(action, test.config.issuer), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: test.config.issuer },
        body: new URLSearchParams({ username, password }),
      });

    const wrongPassword = await submit("alice", "not-wonderland");
    const unknownUser = await submit("<script>alert(1)</script>", "wonderland");
    const wrongHtml = await wrongPassword.text();
    const unknownHtml = await unknownUser.text();

    for (const html of [wrongHtml, unknownHtml]) expect(html).toContain(INVALID_CREDENTIALS_MESSAGE);
    expect(wrongPassword.status).toBe(unknownUser.status);
    expect(unknownHtml).not.toContain("<script>alert(1)</script>");
    expect(unknownHtml).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // Apart from the echoed username the two answers are identical.
    expect(unknownHtml.replace(/value="[^"]*"/, "")).toBe(wrongHtml.replace(/value="[^"]*"/, ""));
  });

  it("refuses a sign-in posted from another site", async () => {
    const browser = new TestBrowser();
    const { response } = await browser.follow(authorizationRequest(test).url, test.config.issuer);
    const { action } = readForm(await response.text());
    const forged = await browser.request(new URL(action, test.config.issuer), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://attacker.example" },
      body: new URLSearchParams({ username: "alice", password: "wonderland" }),
    });
    expect(forged.status).toBe(403);
  });

  it("does not accept a login form without the browser's interaction cookie", async () => {
    const victim = new TestBrowser();
    const { response } = await victim.follow(authorizationRequest(test).url, test.config.issuer);
    const { action } = readForm(await response.text());
    const response2 = await new TestBrowser().request(new URL(action, test.config.issuer), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: test.config.issuer },
      body: new URLSearchParams({ username: "alice", password: "wonderland" }),
    });
    expect(response2.status).toBe(400);
    expect(await response2.text()).toContain("Sign-in expired");
  });
});

describe("authorization code flow as the web app runs it", () => {
  it("issues an RFC 9068 access token for the API, an ID token with the profile, and a refresh token", async () => {
    const { tokens, callback, request } = await signIn(test);

    expect(callback.origin + callback.pathname).toBe(test.redirectUri);
    expect(callback.searchParams.get("state")).toBe(request.state);
    expect(callback.searchParams.get("iss")).toBe(test.config.issuer);
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.expires_in).toBe(5);
    // Refresh tokens come without `prompt=consent` in the request.
    expect(typeof tokens.refresh_token).toBe("string");

    const accessToken = await verifyAccessToken(tokens.access_token!);
    expect(accessToken.protectedHeader).toMatchObject({ typ: "at+jwt", alg: "ES256", kid: expect.any(String) });
    const at = accessToken.payload;
    expect(at).toMatchObject({
      iss: test.config.issuer,
      sub: alice.sub,
      aud: test.config.apiAudience,
      client_id: test.config.clientId,
      jti: expect.any(String),
      sid: expect.any(String),
    });
    expect(String(at.scope).split(" ")).toEqual(expect.arrayContaining(["notes:read", "notes:write"]));
    expect(at.exp! - at.iat!).toBe(5);
    for (const personal of ["email", "name", "email_verified"]) expect(at).not.toHaveProperty(personal);

    const idToken = await verifyIdToken(tokens.id_token!);
    expect(idToken.payload).toMatchObject({
      sub: alice.sub,
      name: "Alice Liddell",
      email: "alice@example.com",
      email_verified: true,
      nonce: request.nonce,
      sid: at.sid,
    });
  });

  it("requires PKCE", async () => {
    const browser = new TestBrowser();
    const request = authorizationRequest(test);
    request.url.searchParams.delete("code_challenge");
    request.url.searchParams.delete("code_challenge_method");
    const callback = await authorize(test, browser, request);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
  });

  it("rejects a code exchange with the wrong verifier or the wrong client secret", async () => {
    const browser = new TestBrowser();
    const request = authorizationRequest(test);
    const callback = await authorize(test, browser, request, { username: "bob", password: "builder" });
    const code = callback.searchParams.get("code")!;
    const exchange = { grant_type: "authorization_code", code, redirect_uri: test.redirectUri };

    const wrongSecret = await tokenRequest(test, { ...exchange, code_verifier: request.codeVerifier }, "nope");
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe("invalid_client");

    const wrongVerifier = await tokenRequest(test, { ...exchange, code_verifier: "x".repeat(43) });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body.error).toBe("invalid_grant");
  });

  it("answers an explicit prompt=consent for the web app without a consent screen", async () => {
    const browser = new TestBrowser();
    const request = authorizationRequest(test, { prompt: "consent" });
    const callback = await authorize(test, browser, request, { username: "alice", password: "wonderland" });
    const code = callback.searchParams.get("code");
    expect(code).toBeTruthy();
    const tokens = await tokenRequest(test, {
      grant_type: "authorization_code",
      code: code!,
      redirect_uri: test.redirectUri,
      code_verifier: request.codeVerifier,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toEqual(expect.any(String));

    // Already signed in: the consent step alone still completes on its own.
    const again = await authorize(test, browser, authorizationRequest(test, { prompt: "consent" }));
    expect(again.searchParams.get("code")).toBeTruthy();
  });

  it("signs a returning browser in without the login page (single sign-on)", async () => {
    const { browser } = await signIn(test, { username: "bob", password: "builder" });
    const callback = await authorize(test, browser, authorizationRequest(test));
    expect(callback.searchParams.get("code")).toBeTruthy();
  });
});

describe("refresh tokens", () => {
  it("rotate on every use; reusing a spent one fails and revokes the whole grant", async () => {
    const { tokens } = await signIn(test);
    const first = await verifyAccessToken(tokens.access_token!);

    const refreshed = await tokenRequest(test, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);
    const rotated = refreshed.body.refresh_token as string;
    expect(rotated).toEqual(expect.any(String));
    expect(rotated).not.toBe(tokens.refresh_token);

    const second = await verifyAccessToken(refreshed.body.access_token as string);
    expect(second.payload.jti).not.toBe(first.payload.jti);
    expect(second.payload).toMatchObject({ sub: alice.sub, aud: test.config.apiAudience, sid: first.payload.sid });
    expect(String(second.payload.scope).split(" ")).toEqual(expect.arrayContaining(["notes:read", "notes:write"]));
    const idToken = await verifyIdToken(refreshed.body.id_token as string);
    expect(idToken.payload.sid).toBe(first.payload.sid);

    const reuse = await tokenRequest(test, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");

    const afterReuse = await tokenRequest(test, { grant_type: "refresh_token", refresh_token: rotated });
    expect(afterReuse.body.error).toBe("invalid_grant");
  });

  it("can be revoked by the client (RFC 7009)", async () => {
    const { tokens } = await signIn(test);
    const revoked = await fetch(new URL("/token/revocation", test.config.issuer), {
      method: "POST",
      headers: { authorization: basicAuth(test), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: "refresh_token" }),
    });
    expect(revoked.status).toBe(200);
    const refresh = await tokenRequest(test, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(refresh.body.error).toBe("invalid_grant");
  });
});

describe("RP-initiated and back-channel logout", () => {
  const endSessionUrl = (params: Record<string, string>) => {
    const url = new URL("/session/end", test.config.issuer);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  };

  it("signs the web app's user out without a second question, notifies it with the sid, kills its refresh token", async () => {
    const { browser, tokens } = await signIn(test);
    const sid = (await verifyAccessToken(tokens.access_token!)).payload.sid;
    const deliveriesBefore = test.backchannelDeliveries.length;

    // What the web app sends: its client_id, the user's ID token and a registered post-logout URI.
    const page = await browser.request(
      endSessionUrl({
        client_id: test.config.clientId,
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: `${test.config.authUrl}/signed-out`,
        state: "after-logout",
      }),
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain("Yes, sign me out");
    const { action, fields } = readForm(html, "op.logoutForm");
    expect(fields.logout).toBe("yes");
    // The page submits itself with one inline script, pinned by hash in the CSP.
    const script = /<script>([^<]*)<\/script>/.exec(html)![1]!;
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain(`script-src 'sha256-${createHash("sha256").update(script).digest("base64")}'`);

    const confirmed = await browser.request(new URL(action, test.config.issuer), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
    expect(confirmed.status).toBe(303);
    const destination = new URL(confirmed.headers.get("location")!);
    expect(destination.origin + destination.pathname).toBe(`${test.config.authUrl}/signed-out`);
    expect(destination.searchParams.get("state")).toBe("after-logout");

    const delivery = test.backchannelDeliveries.slice(deliveriesBefore).at(-1);
    expect(delivery?.path).toBe("/auth/backchannel-logout");
    expect(delivery?.contentType).toBe("application/x-www-form-urlencoded");
    const logoutToken = delivery!.body.get("logout_token")!;
    expect(decodeProtectedHeader(logoutToken).typ).toBe("logout+jwt");
    const { payload } = await jwtVerify(logoutToken, jwks, {
      issuer: test.config.issuer,
      audience: test.config.clientId,
    });
    expect(payload).toMatchObject({
      sub: alice.sub,
      sid,
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    expect(payload).not.toHaveProperty("nonce");

    const refresh = await tokenRequest(test, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(refresh.body.error).toBe("invalid_grant");

    const again = await browser.follow(authorizationRequest(test).url, test.config.issuer);
    expect(again.leftTo).toBeUndefined();
    expect(await again.response.text()).toContain('name="password"');
  });

  it("asks the user to confirm when the request does not prove it comes from the current session", async () => {
    const { browser } = await signIn(test);
    const otherSession = await signIn(test);

    for (const params of [
      { client_id: test.config.clientId } as Record<string, string>,
      { id_token_hint: otherSession.tokens.id_token! },
    ]) {
      const page = await browser.request(endSessionUrl(params));
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("Yes, sign me out");
      expect(html).not.toContain("<script");
      expect(readForm(html, "op.logoutForm").fields).not.toHaveProperty("logout");
      expect(page.headers.get("content-security-policy")).not.toContain("script-src");
    }

    // Declining keeps the IdP session: the next authorization needs no password.
    const page = await browser.request(endSessionUrl({ client_id: test.config.clientId }));
    const { action, fields } = readForm(await page.text(), "op.logoutForm");
    await browser.request(new URL(action, test.config.issuer), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
    const callback = await authorize(test, browser, authorizationRequest(test));
    expect(callback.searchParams.get("code")).toBeTruthy();
  });

  it("rejects a post_logout_redirect_uri that is not registered", async () => {
    const { browser, tokens } = await signIn(test);
    const response = await browser.request(
      endSessionUrl({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: "https://attacker.example/" }),
      { headers: { accept: "text/html" } },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("post_logout_redirect_uri not registered");
  });
});

describe("test-only hooks", () => {
  it("are not served unless enabled", async () => {
    const response = await fetch(new URL(`/__test/tokens?sub=${alice.sub}`, test.config.issuer));
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).not.toContain("application/json");
  });
});
