import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "./routes/notes";
import { openDatabase } from "./database";
import type { NotesStore } from "./notes-store";
import type { RevocationStore } from "./revocation/store";
import { createSqliteRevocationStore } from "./revocation/sqlite";
import { createTestApi, type TestApiOptions } from "./testing/test-api";
import {
  BACKCHANNEL_LOGOUT_EVENT,
  createSigningKey,
  createTestIssuer,
  decodeSegment,
  forgeToken,
  nowSeconds,
  TEST_AUDIENCE,
  TEST_CLIENT,
  TEST_ISSUER,
  type TestIssuer,
} from "./testing/test-issuer";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const CHALLENGE_INVALID = /^Bearer realm="tessera-api", error="invalid_token", error_description="[^"]+"$/;

const setup = (overrides: TestApiOptions = {}) => createTestApi(issuer, overrides);

const alice = (scope = "notes:read notes:write", claims: Record<string, unknown> = {}) =>
  issuer.mint({ claims: { sub: "alice", sid: "session-alice", scope, ...claims } });
const bob = (scope = "notes:read notes:write") => issuer.mint({ claims: { sub: "bob", sid: "session-bob", scope } });

const postNote = (api: ReturnType<typeof setup>, token: string, text: unknown) =>
  api.request("POST", "/notes", { token, body: JSON.stringify({ text }) });

describe("public routes", () => {
  it("answers the health check without a token", async () => {
    const res = await setup().request("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers the readiness check without a token: ready, or 503 without saying why", async () => {
    const ready = await setup().request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });

    const api = setup({ readiness: () => Promise.reject(new Error("discovery answered HTTP 500")) });
    const notReady = await api.request("GET", "/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get("cache-control")).toBe("no-store");
    expect(await notReady.json()).toEqual({ status: "not_ready" });
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "not_ready" }));
  });

  it("answers unknown routes with a JSON 404", async () => {
    const { request } = setup();
    for (const [method, path] of [["GET", "/nope"], ["PUT", "/healthz"], ["GET", "/notes/abc"]] as const) {
      const res = await request(method, path, { token: await alice() });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "not_found" });
    }
  });
});

describe("GET /me", () => {
  it("returns the verified token's subject, scopes and expiry, uncached", async () => {
    const token = await alice("openid notes:read", { jti: "jti-me" });
    const res = await setup().request("GET", "/me", { token });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const exp = decodeSegment(token.split(".")[1]).exp;
    // Nothing else: not the token's jti, sid or client.
    expect(await res.json()).toEqual({ sub: "alice", scopes: ["openid", "notes:read"], exp });
  });

  it("needs no scope, sid or client", async () => {
    const token = await issuer.mint({ claims: { scope: undefined, sid: undefined, client_id: undefined } });
    const res = await setup().request("GET", "/me", { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scopes: [] });
  });

  it("accepts a lowercase bearer scheme", async () => {
    const res = await setup().request("GET", "/me", { headers: { Authorization: `bearer ${await alice()}` } });
    expect(res.status).toBe(200);
  });

  it("accepts typ JWT only when so configured", async () => {
    const token = await issuer.mint({ header: { typ: "JWT" } });
    expect((await setup().request("GET", "/me", { token })).status).toBe(401);
    const relaxed = setup({ verify: { acceptedTypes: ["at+jwt", "jwt"] } });
    expect((await relaxed.request("GET", "/me", { token })).status).toBe(200);
  });

  it("keeps accepting tokens of the previous key after a rotation", async () => {
    const rotating = await createTestIssuer();
    const { request } = setup({ verify: { getKey: rotating.getKey } });
    const before = await rotating.mint();
    await rotating.rotate();
    const after = await rotating.mint();
    expect((await request("GET", "/me", { token: before })).status).toBe(200);
    expect((await request("GET", "/me", { token: after })).status).toBe(200);
  });
});

const PROTECTED_ROUTES = [
  ["GET", "/me"],
  ["GET", "/notes"],
  ["POST", "/notes", JSON.stringify({ text: "x" })],
  ["DELETE", "/notes/00000000-0000-4000-8000-000000000000"],
  ["POST", "/revocations"],
] as const;

describe("requests without bearer credentials", () => {
  it.each([
    ["no Authorization", undefined],
    ["a Basic credential", "Basic YWxpY2U6d29uZGVybGFuZA=="],
    ["another scheme carrying a JWT", `DPoP ${"a".repeat(20)}.${"b".repeat(20)}.${"c".repeat(20)}`],
    ["a scheme glued to a token", "Bearertoken"],
    ["an empty Authorization", ""],
  ])("challenges %s with 401 and no error code (RFC 6750 section 3.1)", async (_, authorization) => {
    for (const [method, path, body] of PROTECTED_ROUTES) {
      const api = setup();
      const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
      const res = await api.request(method, path, { headers, body });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="tessera-api"');
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(await res.json()).toEqual({ error: "unauthorized" });
      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code: "missing_token" }));
    }
  });
});

describe("malformed Authorization", () => {
  it.each([
    ["the scheme alone", async () => "Bearer"],
    ["the scheme and blanks", async () => "Bearer   "],
    ["two tokens", async () => `Bearer ${await alice()} ${await alice()}`],
    ["a token with characters outside b64token", async () => `Bearer ${await alice()};drop`],
    ["two Bearer values", async () => `Bearer ${await alice()}, Bearer ${await alice()}`],
    ["a Bearer value beside another scheme", async () => `Basic YWxpY2U6d29uZGVybGFuZA==, Bearer ${await alice()}`],
  ])("refuses %s with 401 invalid_token, and no token is used", async (_, authorization) => {
    const header = await authorization();
    for (const [method, path, body] of PROTECTED_ROUTES) {
      const api = setup();
      const res = await api.request(method, path, { headers: { Authorization: header }, body });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="tessera-api", error="invalid_token"/);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: "invalid_token" });
      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code: "malformed_authorization" }));
      expect(api.logs()).not.toContainEqual(expect.objectContaining({ event: "request", sub: expect.anything() }));
      expect(api.notes.list("alice")).toEqual([]);
      const secret = header.replace(/^\S+\s*/, "").slice(0, 40);
      if (secret.length > 8) {
        expect(text).not.toContain(secret);
        expect(api.lines.join("\n")).not.toContain(secret);
      }
    }
  });
});

describe("invalid tokens", () => {

  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ["alg none", async () => bearer(forgeToken({ alg: "none", typ: "at+jwt" }, decodeSegment((await alice()).split(".")[1]))), "unsupported_alg"],
    ["HS256 keyed with the public key", async () => bearer(await hs256WithPublicKey()), "unsupported_alg"],
    ["an altered signature", async () => bearer(alterSignature(await alice())), "bad_signature"],
    ["an altered payload", async () => bearer(alterPayload(await bob(), { sub: "alice" })), "bad_signature"],
    ["an unknown kid", async () => bearer(await issuer.mint({ key: await createSigningKey("ES256", "unknown") })), "unknown_key"],
    ["a path-traversal kid", async () => bearer(await issuer.mint({ key: await createSigningKey("ES256", "../../etc/passwd") })), "unknown_key"],
    ["an SQL kid", async () => bearer(await issuer.mint({ key: await createSigningKey("ES256", "x' OR '1'='1") })), "unknown_key"],
    ["an attacker key in jwk", async () => bearer(await attackerToken({ jwk: "self" })), "bad_signature"],
    ["an attacker jku", async () => bearer(await attackerToken({ jku: "https://attacker.test/jwks" })), "bad_signature"],
    ["an attacker x5u", async () => bearer(await attackerToken({ x5u: "https://attacker.test/cert" })), "bad_signature"],
    ["an expired token", async () => bearer(await alice(undefined, { iat: nowSeconds() - 900, exp: nowSeconds() - 600 })), "expired"],
    ["nbf in the future", async () => bearer(await alice(undefined, { nbf: nowSeconds() + 600 })), "not_yet_valid"],
    ["iat far in the future", async () => bearer(await alice(undefined, { iat: nowSeconds() + 3600, exp: nowSeconds() + 4000 })), "issued_in_future"],
    ["a wrong issuer", async () => bearer(await alice(undefined, { iss: "https://evil.test" })), "wrong_issuer"],
    ["a wrong audience", async () => bearer(await alice(undefined, { aud: "https://other.test" })), "wrong_audience"],
    ["no audience", async () => bearer(await alice(undefined, { aud: undefined })), "wrong_audience"],
    ["typ JWT", async () => bearer(await issuer.mint({ header: { typ: "JWT" } })), "unsupported_typ"],
    ["an ID token", async () => bearer(await issuer.mint({ header: { typ: "JWT" }, claims: { aud: "tessera-web", nonce: "n" } })), "unsupported_typ"],
    ["no jti", async () => bearer(await alice(undefined, { jti: undefined })), "invalid_claims"],
    ["no sub", async () => bearer(await alice(undefined, { sub: undefined })), "invalid_claims"],
    ["a 64 KB token", async () => bearer(await alice(undefined, { padding: "x".repeat(64 * 1024) })), "token_too_large"],
    ["a garbage token", async () => bearer("garbage.garbage.garbage"), "malformed_token"],
  ];

  it.each(cases)("refuses %s with 401 invalid_token, and logs why", async (_, headers, code) => {
    const authorization = (await headers()).Authorization ?? "";
    for (const [method, path, body] of PROTECTED_ROUTES) {
      const api = setup();
      const res = await api.request(method, path, { headers: { Authorization: authorization }, body });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(CHALLENGE_INVALID);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: "invalid_token" });
      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code }));
      const secret = authorization.replace(/^\S+\s*/, "");
      if (secret.length > 8) {
        expect(text).not.toContain(secret.slice(0, 40));
        expect(api.lines.join("\n")).not.toContain(secret.slice(0, 40));
      }
    }
  });

  describe("where typ JWT is accepted (Keycloak, Entra ID)", () => {
    const relaxed = () => setup({ verify: { acceptedTypes: ["at+jwt", "jwt"] } });
    const jwt = (claims: Record<string, unknown>) => issuer.mint({ header: { typ: "JWT" }, claims });

    it("accepts an access token", async () => {
      expect((await relaxed().request("GET", "/me", { token: await jwt({}) })).status).toBe(200);
    });

    it.each([
      ["an ID token that names the API among its audiences", { aud: [TEST_CLIENT, TEST_AUDIENCE], nonce: "n-0S6_WzA2Mj" }],
      ["a token addressed to the client as well as the API", { aud: [TEST_AUDIENCE, TEST_CLIENT] }],
      ["a token with a nonce", { nonce: "n-0S6_WzA2Mj" }],
      ["a token with an at_hash", { at_hash: "77QmUPtjPfzWtF2AnpK9RQ" }],
    ])("refuses %s with 401 invalid_token", async (_, claims) => {
      for (const [method, path, body] of PROTECTED_ROUTES) {
        const api = relaxed();
        const res = await api.request(method, path, { token: await jwt(claims), body });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get("WWW-Authenticate")).toMatch(CHALLENGE_INVALID);
        expect(await res.json()).toEqual({ error: "invalid_token" });
        expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code: "id_token_presented" }));
      }
    });
  });

  it("never echoes a token in the error description", async () => {
    const token = alterSignature(await alice());
    const res = await setup().request("GET", "/me", { token });
    const challenge = res.headers.get("WWW-Authenticate") ?? "";
    expect(challenge).not.toContain(token.split(".")[0]);
    expect(challenge).not.toMatch(/signature|kid|alg|key/i);
  });
});

describe("scopes", () => {
  it.each([
    ["GET", "/notes", "notes:read", "notes:write"],
    ["POST", "/notes", "notes:write", "notes:read"],
    ["DELETE", "/notes/00000000-0000-4000-8000-000000000000", "notes:write", "notes:read"],
  ])("%s %s needs %s", async (method, path, needed, other) => {
    const api = setup();
    const res = await api.request(method, path, { token: await alice(`openid ${other}`), body: method === "POST" ? "{" : undefined });
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toBe(`Bearer realm="tessera-api", error="insufficient_scope", scope="${needed}"`);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual({ error: "insufficient_scope", scope: needed });
  });

  it("does not mistake a scope prefix for the scope", async () => {
    const res = await setup().request("GET", "/notes", { token: await alice("notes:read-only notes") });
    expect(res.status).toBe(403);
  });
});

describe("notes", () => {
  it("creates, lists newest first and deletes the caller's notes", async () => {
    const api = setup();
    const token = await alice();
    const first = await postNote(api, token, "  first  ");
    expect(first.status).toBe(201);
    const { note } = (await first.json()) as { note: { id: string; text: string; createdAt: string } };
    expect(note).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), text: "first", createdAt: expect.any(String) });
    await postNote(api, token, "second");

    const list = await api.request("GET", "/notes", { token });
    expect(list.status).toBe(200);
    expect(list.headers.get("Cache-Control")).toBe("no-store");
    expect(((await list.json()) as { notes: { text: string }[] }).notes.map((n) => n.text)).toEqual(["second", "first"]);

    const removed = await api.request("DELETE", `/notes/${note.id}`, { token });
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe("");
    expect((await api.request("DELETE", `/notes/${note.id}`, { token })).status).toBe(404);
  });

  it("keeps Bob out of Alice's notes", async () => {
    const api = setup();
    const aliceToken = await alice();
    const bobToken = await bob();
    const { note } = (await (await postNote(api, aliceToken, "alice's secret")).json()) as { note: { id: string } };

    const bobsList = await api.request("GET", "/notes", { token: bobToken });
    expect(await bobsList.json()).toEqual({ notes: [] });

    const bobDeletes = await api.request("DELETE", `/notes/${note.id}`, { token: bobToken });
    const nobodyDeletes = await api.request("DELETE", "/notes/00000000-0000-4000-8000-000000000000", { token: bobToken });
    expect(bobDeletes.status).toBe(404);
    expect(await bobDeletes.json()).toEqual({ error: "not_found" });
    expect(nobodyDeletes.status).toBe(404);
    expect(await nobodyDeletes.json()).toEqual({ error: "not_found" });

    const alicesList = (await (await api.request("GET", "/notes", { token: aliceToken })).json()) as { notes: { text: string }[] };
    expect(alicesList.notes.map((n) => n.text)).toEqual(["alice's secret"]);
  });

  it("takes the owner from the token, not from the body", async () => {
    const api = setup();
    await api.request("POST", "/notes", { token: await bob(), body: JSON.stringify({ text: "hi", owner: "alice", sub: "alice" }) });
    expect(api.notes.list("alice")).toEqual([]);
    expect(api.notes.list("bob")).toHaveLength(1);
  });

  it("accepts a note of exactly 1000 characters, counting characters rather than UTF-16 units", async () => {
    const api = setup();
    const token = await alice();
    expect((await postNote(api, token, "a".repeat(1000))).status).toBe(201);
    expect((await postNote(api, token, "😀".repeat(1000))).status).toBe(201);
  });

  it.each([
    ["text too long", JSON.stringify({ text: "a".repeat(1001) }), "application/json"],
    ["empty text", JSON.stringify({ text: "" }), "application/json"],
    ["blank text", JSON.stringify({ text: " \n\t " }), "application/json"],
    ["a number", JSON.stringify({ text: 42 }), "application/json"],
    ["null text", JSON.stringify({ text: null }), "application/json"],
    ["no text", JSON.stringify({ note: "hi" }), "application/json"],
    ["an array body", JSON.stringify(["hi"]), "application/json"],
    ["a JSON string body", JSON.stringify("hi"), "application/json"],
    ["invalid JSON", "{text: 'hi'}", "application/json"],
    ["a text/plain body", JSON.stringify({ text: "hi" }), "text/plain"],
    ["a form body", "text=hi", "application/x-www-form-urlencoded"],
    ["a body over 16 KB", JSON.stringify({ text: "a".repeat(MAX_BODY_BYTES) }), "application/json"],
  ])("refuses %s with 400", async (_, body, contentType) => {
    const api = setup();
    const res = await api.request("POST", "/notes", { token: await alice(), body, headers: { "Content-Type": contentType } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_request", message: expect.any(String) });
    expect(api.notes.list("alice")).toEqual([]);
  });

  it("refuses a body without Content-Type", async () => {
    const api = setup();
    const res = await api.app.request("/notes", {
      method: "POST",
      headers: { Authorization: `Bearer ${await alice()}` },
      body: new Blob([JSON.stringify({ text: "hi" })]),
    });
    expect(res.status).toBe(400);
  });

  it("accepts a charset parameter on the JSON content type", async () => {
    const api = setup();
    const res = await api.request("POST", "/notes", {
      token: await alice(),
      body: JSON.stringify({ text: "hi" }),
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });
});

describe("failures", () => {
  it("turns an unexpected error into a bare 500, with the detail only in the log", async () => {
    const broken: NotesStore = {
      list: () => {
        throw new Error("disk on fire at /var/lib/secret");
      },
      create: () => {
        throw new Error("unused");
      },
      delete: () => false,
    };
    const api = setup({ notes: broken });
    const res = await api.request("GET", "/notes", { token: await alice() });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: "server_error" });
    expect(text).not.toContain("disk on fire");
    expect(api.lines.join("\n")).toContain("disk on fire");
  });

  it("answers 503 when the issuer's keys cannot be obtained", async () => {
    const api = setup({ verify: { getKey: () => Promise.reject(new TypeError("fetch failed")) } });
    const res = await api.request("GET", "/me", { token: await alice() });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_unverifiable", level: "error" }));
  });
});

describe("request log", () => {
  it("writes one line per request with method, path, status and duration, never the token", async () => {
    const api = setup();
    const token = await alice();
    await api.request("GET", "/notes?access_token=leak", { token });
    const requests = api.logs().filter((entry) => entry.event === "request");
    expect(requests).toEqual([
      expect.objectContaining({ method: "GET", path: "/notes", status: 200, ms: expect.any(Number), sub: "alice" }),
    ]);
    expect(api.lines.join("\n")).not.toContain(token.split(".")[2]);
    expect(api.lines.join("\n")).not.toContain("leak");
  });
});

describe("revocation", () => {
  it("lets a token revoke itself and its session", async () => {
    const api = setup();
    const token = await alice();
    const sibling = await alice();
    const bobs = await bob();
    expect((await api.request("GET", "/me", { token: sibling })).status).toBe(200);

    const res = await api.request("POST", "/revocations", { token });
    expect(res.status).toBe(204);

    for (const revoked of [token, sibling]) {
      const after = await api.request("GET", "/me", { token: revoked });
      expect(after.status).toBe(401);
      expect(after.headers.get("WWW-Authenticate")).toMatch(CHALLENGE_INVALID);
    }
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "token_rejected", code: "revoked" }));
    expect((await api.request("GET", "/me", { token: bobs })).status).toBe(200);
  });

  it("lets the session back in with tokens issued after its revocation, as when the IdP's SSO session lived on", async () => {
    const clock = Date.now();
    const t = Math.floor(clock / 1000);
    const api = setup({ now: () => clock });
    const token = await alice(undefined, { iat: t - 30 });
    const sibling = await alice(undefined, { iat: t });
    expect((await api.request("POST", "/revocations", { token })).status).toBe(204);

    const signedInAgain = await alice(undefined, { iat: t + 1 });
    expect((await api.request("GET", "/me", { token: signedInAgain })).status).toBe(200);
    expect((await api.request("GET", "/me", { token: sibling })).status).toBe(401);
    expect((await api.request("GET", "/me", { token })).status).toBe(401);
  });

  it("ends the session's tokens up to the revoking one when the IdP's clock runs ahead", async () => {
    const clock = Date.now();
    const t = Math.floor(clock / 1000);
    const api = setup({ now: () => clock });
    const sibling = await alice(undefined, { iat: t + 2 });
    const token = await alice(undefined, { iat: t + 3 });
    expect((await api.request("POST", "/revocations", { token })).status).toBe(204);
    expect((await api.request("GET", "/me", { token: sibling })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: await alice(undefined, { iat: t + 4 }) })).status).toBe(200);
  });

  it("needs no scope to revoke", async () => {
    const api = setup();
    const token = await alice("");
    expect((await api.request("POST", "/revocations", { token })).status).toBe(204);
    expect((await api.request("GET", "/me", { token })).status).toBe(401);
  });

  it("revokes only the token itself when it carries no session", async () => {
    const api = setup();
    const token = await alice(undefined, { sid: undefined });
    const other = await alice(undefined, { sid: undefined });
    expect((await api.request("POST", "/revocations", { token })).status).toBe(204);
    expect((await api.request("GET", "/me", { token })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: other })).status).toBe(200);
  });

  it("remembers a token until it expires and a session until its longest-lived token would", async () => {
    const clock = Date.now();
    const db = openDatabase(":memory:");
    let storeClock = clock;
    const revocations = createSqliteRevocationStore(db, () => storeClock);
    const api = setup({ revocations, now: () => clock, maxTokenTtl: 600, clockTolerance: 5 });
    const token = await alice(undefined, { jti: "j1", sid: "s1", iat: Math.floor(clock / 1000) });
    const { exp } = decodeSegment(token.split(".")[1]) as { exp: number };
    await api.request("POST", "/revocations", { token });

    storeClock = (exp + 4) * 1000;
    expect(await revocations.isRevoked({ jti: "j1", sub: "alice", iat: 0 })).toBe(true);
    storeClock = (exp + 5) * 1000;
    expect(await revocations.isRevoked({ jti: "j1", sub: "alice", iat: 0 })).toBe(false);

    const sessionEnds = Math.floor(clock / 1000) + 600 + 5;
    storeClock = (sessionEnds - 1) * 1000;
    expect(await revocations.isRevoked({ jti: "later", sid: "s1", sub: "alice", iat: 0 })).toBe(true);
    storeClock = sessionEnds * 1000;
    expect(await revocations.isRevoked({ jti: "later", sid: "s1", sub: "alice", iat: 0 })).toBe(false);
  });

  it("answers 503 on protected routes, and only there, when the store fails, at once or later", async () => {
    const down = () => {
      throw new Error("store down");
    };
    for (const isRevoked of [() => Promise.reject(new Error("store down")), down]) {
      const failing: RevocationStore = { isRevoked, revoke: async () => down(), revokeOnce: async () => down() };
      const api = setup({ revocations: failing });
      const token = await alice();
      for (const [method, path] of [["GET", "/me"], ["GET", "/notes"], ["POST", "/revocations"]] as const) {
        const res = await api.request(method, path, { token });
        expect(res.status, `${method} ${path}`).toBe(503);
        expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
      }
      expect((await api.request("GET", "/healthz")).status).toBe(200);
      expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_check_failed", level: "error" }));
    }
  });

  it("answers 503 when recording the revocation fails", async () => {
    const readOnly: RevocationStore = {
      isRevoked: async () => false,
      revoke: () => Promise.reject(new Error("read-only")),
      revokeOnce: () => Promise.reject(new Error("read-only")),
    };
    const api = setup({ revocations: readOnly });
    const res = await api.request("POST", "/revocations", { token: await alice() });
    expect(res.status).toBe(503);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_failed" }));
  });
});

describe("POST /revocations/logout-token", () => {
  const logoutToken = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    issuer.mintLogoutToken({ claims, header });
  const INVALID_LOGOUT = { error: "invalid_request", error_description: expect.any(String) };

  it("ends the session it names: every access token of that session is refused afterwards", async () => {
    const api = setup();
    const laptop = [await alice(), await alice()];
    const phone = await alice(undefined, { sid: "session-alice-phone" });
    const bobs = await bob();
    for (const token of laptop) expect((await api.request("GET", "/me", { token })).status).toBe(200);

    const res = await api.postLogoutToken(await logoutToken({ sid: "session-alice" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.text()).toBe("");

    for (const token of laptop) {
      const after = await api.request("GET", "/notes", { token });
      expect(after.status).toBe(401);
      expect(after.headers.get("WWW-Authenticate")).toMatch(CHALLENGE_INVALID);
    }
    expect((await api.request("GET", "/me", { token: phone })).status).toBe(200);
    expect((await api.request("GET", "/me", { token: bobs })).status).toBe(200);
    expect(api.logs()).toContainEqual(
      expect.objectContaining({ event: "logout_token_accepted", sid: "session-alice", sub: "alice" }),
    );
  });

  it("ends only the tokens the session was issued so far: the same sid may sign in again", async () => {
    const clock = Date.now();
    const t = Math.floor(clock / 1000);
    const api = setup({ now: () => clock });
    const issuedBefore = await alice(undefined, { iat: t - 10 });
    expect((await api.postLogoutToken(await logoutToken({ sid: "session-alice", iat: t }))).status).toBe(200);
    expect((await api.request("GET", "/me", { token: issuedBefore })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: await alice(undefined, { iat: t + 1 }) })).status).toBe(200);
  });

  it("without a sid, ends every session of the subject issued so far, and none that start later", async () => {
    const t = nowSeconds();
    const api = setup();
    const issuedBefore = [
      await alice(undefined, { iat: t - 20 }),
      await alice(undefined, { iat: t - 20, sid: "session-alice-phone" }),
    ];
    const issuedAfter = await alice(undefined, { iat: t + 1, sid: "session-alice-new" });
    const bobs = await bob();

    expect((await api.postLogoutToken(await logoutToken({ sid: undefined, iat: t }))).status).toBe(200);

    for (const token of issuedBefore) expect((await api.request("GET", "/me", { token })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: issuedAfter })).status).toBe(200);
    expect((await api.request("GET", "/me", { token: bobs })).status).toBe(200);
  });

  it("without a sid, dates the logout by its iat: a late delivery leaves the sessions that began after it", async () => {
    const clock = Date.now();
    const t = Math.floor(clock / 1000);
    const api = setup({ now: () => clock });
    const before = await alice(undefined, { iat: t - 90, sid: "session-alice-old" });
    const sameSecond = await alice(undefined, { iat: t - 60, sid: "session-alice-old" });
    const signedInAfter = await alice(undefined, { iat: t - 59, sid: "session-alice-new" });

    // Issued a minute ago, delivered now.
    expect((await api.postLogoutToken(await logoutToken({ sid: undefined, iat: t - 60 }))).status).toBe(200);

    expect((await api.request("GET", "/me", { token: before })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: sameSecond })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: signedInAfter })).status).toBe(200);
  });

  it("without a sid, ends the tokens issued up to the logout's iat even when this server's clock is behind the IdP's", async () => {
    const t = nowSeconds();
    const clock = (t - 4) * 1000;
    const api = setup({ now: () => clock, verifyLogout: { now: () => clock } });
    const issuedAtLogout = await alice(undefined, { iat: t, sid: "session-alice-phone" });
    const issuedAfter = await alice(undefined, { iat: t + 1, sid: "session-alice-new" });

    expect((await api.postLogoutToken(await logoutToken({ sid: undefined, iat: t }))).status).toBe(200);

    expect((await api.request("GET", "/me", { token: issuedAtLogout })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: issuedAfter })).status).toBe(200);
  });

  it("with a sid, ends the session's tokens up to the logout's iat or its delivery, whichever is later", async () => {
    const t = nowSeconds();
    // Delivered a minute late: a token the session got in between goes too.
    const late = setup({ now: () => t * 1000 });
    const inBetween = await alice(undefined, { iat: t - 30 });
    expect((await late.postLogoutToken(await logoutToken({ sid: "session-alice", iat: t - 60 }))).status).toBe(200);
    expect((await late.request("GET", "/me", { token: inBetween })).status).toBe(401);
    expect((await late.request("GET", "/me", { token: await alice(undefined, { iat: t + 1 }) })).status).toBe(200);

    // Delivered at once to a server whose clock is 4 seconds behind the IdP's.
    const behind = setup({ now: () => (t - 4) * 1000, verifyLogout: { now: () => (t - 4) * 1000 } });
    const issuedAtLogout = await alice(undefined, { iat: t });
    expect((await behind.postLogoutToken(await logoutToken({ sid: "session-alice", iat: t }))).status).toBe(200);
    expect((await behind.request("GET", "/me", { token: issuedAtLogout })).status).toBe(401);
    expect((await behind.request("GET", "/me", { token: await alice(undefined, { iat: t + 1 }) })).status).toBe(200);
  });

  it("keeps a cut-off ahead of this server's clock until the tokens it covers have expired", async () => {
    const t = nowSeconds();
    const clock = (t - 4) * 1000;
    const calls: Parameters<RevocationStore["revokeOnce"]>[0][] = [];
    const inner = createSqliteRevocationStore(openDatabase(":memory:"));
    const recording: RevocationStore = {
      ...inner,
      revokeOnce: (revocation, message) => {
        calls.push(revocation);
        return inner.revokeOnce(revocation, message);
      },
    };
    const api = setup({ revocations: recording, now: () => clock, verifyLogout: { now: () => clock }, maxTokenTtl: 600, clockTolerance: 5 });
    await api.postLogoutToken(await logoutToken({ sid: undefined, iat: t }));
    await api.postLogoutToken(await logoutToken({ sid: "session-alice", iat: t }));
    expect(calls).toEqual([
      { sub: "alice", issuedUpTo: t, until: t + 600 + 5 },
      { sid: "session-alice", issuedUpTo: t, until: t + 600 + 5 },
    ]);
  });

  it("ends only the named session when both sid and sub are given", async () => {
    const api = setup();
    const phone = await alice(undefined, { sid: "session-alice-phone" });
    expect((await api.postLogoutToken(await logoutToken({ sid: "session-alice", sub: "alice" }))).status).toBe(200);
    expect((await api.request("GET", "/me", { token: await alice() })).status).toBe(401);
    expect((await api.request("GET", "/me", { token: phone })).status).toBe(200);
  });

  it("keeps the session revoked for the longest token lifetime, and the jti for as long as the token is acceptable", async () => {
    const clock = Date.now();
    const calls: Parameters<RevocationStore["revokeOnce"]>[] = [];
    const inner = createSqliteRevocationStore(openDatabase(":memory:"));
    const recording: RevocationStore = {
      ...inner,
      revokeOnce: (...args) => {
        calls.push(args);
        return inner.revokeOnce(...args);
      },
    };
    const api = setup({ revocations: recording, now: () => clock, maxTokenTtl: 600, clockTolerance: 5 });
    const token = await logoutToken({ jti: "logout-1", iat: Math.floor(clock / 1000) - 1 });
    const { iat, exp } = decodeSegment(token.split(".")[1]) as { iat: number; exp: number };
    await api.postLogoutToken(token);
    expect(calls).toEqual([
      [
        { sid: "session-alice", issuedUpTo: Math.floor(clock / 1000), until: Math.floor(clock / 1000) + 600 + 5 },
        { jti: "logout-1", until: Math.min(iat + 300 + 5, exp + 5) },
      ],
    ]);
  });

  it("refuses a replayed logout token, but accepts a new one for the same session", async () => {
    const api = setup();
    const token = await logoutToken();
    expect((await api.postLogoutToken(token)).status).toBe(200);

    const replay = await api.postLogoutToken(token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual(INVALID_LOGOUT);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "logout_token_rejected", code: "replayed" }));

    expect((await api.postLogoutToken(await logoutToken())).status).toBe(200);
  });

  it.each([
    ["typ logout+jwt in any case, with the application/ prefix", { typ: "application/LOGOUT+JWT" }, {}, {}],
    ["no typ", { typ: undefined }, {}, {}],
    ["another trusted client as audience", {}, { aud: "tessera-admin" }, { audiences: [TEST_CLIENT, "tessera-admin"] }],
    ["an audience list that contains the client", {}, { aud: ["another-client", TEST_CLIENT] }, {}],
    ["no exp", {}, { exp: undefined }, {}],
  ])("accepts %s", async (_, header, claims, verifyLogout) => {
    const api = setup({ verifyLogout });
    expect((await api.postLogoutToken(await logoutToken(claims, header))).status).toBe(200);
    expect((await api.request("GET", "/me", { token: await alice() })).status).toBe(401);
  });

  const invalidTokens: [string, () => Promise<string>, string][] = [
    ["a bad signature", async () => alterSignature(await logoutToken()), "bad_signature"],
    ["an altered payload", async () => alterPayload(await logoutToken({ sid: "session-bob" }), { sid: "session-alice" }), "bad_signature"],
    ["an unknown key", async () => issuer.mintLogoutToken({ key: await createSigningKey("ES256", "unknown") }), "unknown_key"],
    ["alg none", async () => forgeToken({ alg: "none", typ: "logout+jwt" }, decodeSegment((await logoutToken()).split(".")[1])), "unsupported_alg"],
    ["a wrong issuer", () => logoutToken({ iss: "https://evil.test" }), "wrong_issuer"],
    ["a wrong audience", () => logoutToken({ aud: "another-client" }), "wrong_audience"],
    ["the API as audience", () => logoutToken({ aud: TEST_AUDIENCE }), "wrong_audience"],
    ["no audience", () => logoutToken({ aud: undefined }), "wrong_audience"],
    ["no events", () => logoutToken({ events: undefined }), "missing_logout_event"],
    ["a wrong events key", () => logoutToken({ events: { [`${BACKCHANNEL_LOGOUT_EVENT}/`]: {} } }), "missing_logout_event"],
    ["an event that is not an object", () => logoutToken({ events: { [BACKCHANNEL_LOGOUT_EVENT]: "logout" } }), "missing_logout_event"],
    ["events as a list", () => logoutToken({ events: [BACKCHANNEL_LOGOUT_EVENT] }), "missing_logout_event"],
    ["a nonce", () => logoutToken({ nonce: "n-0S6_WzA2Mj" }), "nonce_present"],
    ["no sid and no sub", () => logoutToken({ sid: undefined, sub: undefined }), "missing_sid_and_sub"],
    ["an empty sid", () => logoutToken({ sid: "", sub: undefined }), "invalid_claims"],
    ["no jti", () => logoutToken({ jti: undefined }), "invalid_claims"],
    ["a numeric jti", () => logoutToken({ jti: 42 }), "invalid_claims"],
    ["no iat", () => logoutToken({ iat: undefined }), "invalid_claims"],
    ["an iat too old", () => logoutToken({ iat: nowSeconds() - 300 - 5 - 2, exp: nowSeconds() + 60 }), "stale"],
    ["an iat in the future", () => logoutToken({ iat: nowSeconds() + 600, exp: nowSeconds() + 700 }), "issued_in_future"],
    ["an expired token", () => logoutToken({ iat: nowSeconds() - 200, exp: nowSeconds() - 60 }), "expired"],
    ["an access token (typ at+jwt)", () => alice(), "unsupported_typ"],
    ["logout claims under typ at+jwt", () => logoutToken({}, { typ: "at+jwt" }), "unsupported_typ"],
    ["an ID token (typ JWT)", () => idToken({ typ: "JWT" }), "unsupported_typ"],
    ["an ID token without typ", () => idToken({ typ: undefined }), "missing_logout_event"],
    ["a token over 8 KB", () => logoutToken({ padding: "x".repeat(6.5 * 1024) }), "token_too_large"],
    ["a garbage token", async () => "garbage.garbage.garbage", "malformed_token"],
  ];

  it.each(invalidTokens)("refuses %s with 400 invalid_request, logs why, and revokes nothing", async (_, make, code) => {
    const api = setup();
    const token = await make();
    const res = await api.postLogoutToken(token);
    expect(res.status).toBe(400);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual(INVALID_LOGOUT);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "logout_token_rejected", code }));
    expect(text).not.toContain(token.slice(0, 40));
    expect(api.lines.join("\n")).not.toContain(token.slice(0, 40));
    expect((await api.request("GET", "/me", { token: await alice() })).status).toBe(200);
  });

  it.each([
    ["a JSON body", "application/json", JSON.stringify({ logout_token: "x" })],
    ["no Content-Type", undefined, "logout_token=x"],
    ["no logout_token", "application/x-www-form-urlencoded", "token=x"],
    ["two logout_token values", "application/x-www-form-urlencoded", "logout_token=a.b.c&logout_token=d.e.f"],
    ["a body over 12 KB", "application/x-www-form-urlencoded", `logout_token=${"x".repeat(13 * 1024)}`],
  ])("refuses %s with 400 invalid_request", async (_, contentType, body) => {
    const api = setup();
    const res = await api.app.request("/revocations/logout-token", {
      method: "POST",
      headers: contentType === undefined ? {} : { "Content-Type": contentType },
      body: new Blob([body]),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual(INVALID_LOGOUT);
  });

  it("takes no bearer token into account", async () => {
    const api = setup();
    const res = await api.request("POST", "/revocations/logout-token", {
      token: await bob(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: await logoutToken() }).toString(),
    });
    expect(res.status).toBe(200);
    expect((await api.request("GET", "/me", { token: await bob() })).status).toBe(200);
    expect((await api.request("GET", "/me", { token: await alice() })).status).toBe(401);
  });

  it("answers 503 when the issuer's keys cannot be obtained", async () => {
    const api = setup({ verifyLogout: { getKey: () => Promise.reject(new TypeError("fetch failed")) } });
    const res = await api.postLogoutToken(await logoutToken());
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "logout_token_unverifiable", level: "error" }));
  });

  it("answers 503 when the store fails, and accepts the same token once the store is back", async () => {
    const inner = createSqliteRevocationStore(openDatabase(":memory:"));
    let down = true;
    const flaky: RevocationStore = {
      ...inner,
      revokeOnce: (...args) => (down ? Promise.reject(new Error("store down")) : inner.revokeOnce(...args)),
    };
    const api = setup({ revocations: flaky });
    const token = await logoutToken();
    const res = await api.postLogoutToken(token);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_failed", level: "error" }));

    down = false;
    expect((await api.postLogoutToken(token)).status).toBe(200);
  });
});

// --- token forgeries used above ---

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function alterSignature(token: string): string {
  const [h, p, s = ""] = token.split(".");
  return `${h}.${p}.${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
}

function alterPayload(token: string, changes: Record<string, unknown>): string {
  const [h, p, s] = token.split(".");
  const payload = Buffer.from(JSON.stringify({ ...decodeSegment(p), ...changes })).toString("base64url");
  return `${h}.${payload}.${s}`;
}

/** An ID token as an IdP issues it at sign-in: addressed to the client, with a nonce and no events. */
const idToken = (header: Record<string, unknown>) =>
  issuer.mint({ header, claims: { aud: TEST_CLIENT, nonce: "n-0S6_WzA2Mj", scope: undefined, client_id: undefined } });

async function hs256WithPublicKey(): Promise<string> {
  const published = issuer.jwks().keys[0];
  return new SignJWT({ sub: "mallory", jti: "forged", scope: "notes:read notes:write", iss: TEST_ISSUER, aud: TEST_AUDIENCE })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: published?.kid })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JSON.stringify(published)));
}

/** Signed by the attacker's key, naming the issuer's kid and pointing at (or embedding) the attacker's key. */
async function attackerToken(pointer: { jwk?: "self"; jku?: string; x5u?: string }): Promise<string> {
  const attacker = await createSigningKey("ES256");
  const header = {
    kid: issuer.jwks().keys[0]?.kid,
    ...(pointer.jwk ? { jwk: attacker.publicJwk } : {}),
    ...(pointer.jku ? { jku: pointer.jku } : {}),
    ...(pointer.x5u ? { x5u: pointer.x5u } : {}),
  };
  return issuer.mint({ key: attacker, header, claims: { sub: "alice" } });
}

describe("caching", () => {
  it("marks every answer to an authenticated request no-store, refusals and errors included", async () => {
    const api = setup();
    const token = await alice();
    const created = await postNote(api, token, "private");
    const { note } = (await created.clone().json()) as { note: { id: string } };
    const answers = [
      created,
      await api.request("GET", "/me", { token }),
      await api.request("GET", "/notes", { token }),
      await postNote(api, token, ""),
      await postNote(api, await alice("notes:read"), "no write scope"),
      await api.request("DELETE", `/notes/${note.id}`, { token }),
      await api.request("DELETE", `/notes/${note.id}`, { token }),
      await api.request("GET", "/me"),
      await api.request("GET", "/me", { token: `${token}x` }),
      await api.request("POST", "/revocations", { token }),
    ];
    expect(answers.map((res) => res.status)).toEqual([201, 200, 200, 400, 403, 204, 404, 401, 401, 204]);
    for (const res of answers) expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});
