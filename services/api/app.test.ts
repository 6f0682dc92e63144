import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyAccessToken, type VerifyAccessTokenOptions } from "./access-token";
import { createApi, MAX_BODY_BYTES, type ApiOptions } from "./app";
import { openDatabase } from "./database";
import { createJsonLogger } from "./logger";
import { createSqliteNotesStore, type NotesStore } from "./notes-store";
import type { RevocationStore } from "./revocation-store";
import { createSqliteRevocationStore } from "./sqlite-revocation-store";
import {
  createSigningKey,
  createTestIssuer,
  decodeSegment,
  forgeToken,
  nowSeconds,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIssuer,
} from "./test-issuer";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const CHALLENGE_INVALID = /^Bearer realm="tessera-api", error="invalid_token", error_description="[^"]+"$/;

function setup(overrides: Partial<ApiOptions> & { verify?: Partial<VerifyAccessTokenOptions> } = {}) {
  const { verify, ...api } = overrides;
  const lines: string[] = [];
  const db = openDatabase(":memory:");
  const verifyOptions: VerifyAccessTokenOptions = {
    getKey: issuer.getKey,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    clockTolerance: 5,
    acceptedTypes: ["at+jwt"],
    ...verify,
  };
  const notes = createSqliteNotesStore(db);
  const revocations = createSqliteRevocationStore(db);
  const app = createApi({
    verifier: (token) => verifyAccessToken(token, verifyOptions),
    notes,
    revocations,
    log: createJsonLogger((line) => lines.push(line)),
    maxTokenTtl: 3600,
    clockTolerance: 5,
    ...api,
  });

  const request = (method: string, path: string, init: { token?: string; headers?: HeadersInit; body?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set("Authorization", `Bearer ${init.token}`);
    if (init.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    return app.request(path, { method, headers, body: init.body });
  };
  const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, request, notes, revocations, lines, logs };
}

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
    expect(await res.json()).toEqual({
      sub: "alice",
      scopes: ["openid", "notes:read"],
      exp,
      jti: "jti-me",
      sid: "session-alice",
      clientId: "tessera-web",
    });
  });

  it("needs no scope and reports absent sid and client as null", async () => {
    const token = await issuer.mint({ claims: { scope: undefined, sid: undefined, client_id: undefined } });
    const res = await setup().request("GET", "/me", { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scopes: [], sid: null, clientId: null });
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

describe("missing and invalid tokens", () => {
  it("challenges a request without Authorization, with no error code", async () => {
    const res = await setup().request("GET", "/notes");
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="tessera-api"');
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual({ error: "invalid_token" });
  });

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
    ["a Basic credential", async () => ({ Authorization: "Basic YWxpY2U6d29uZGVybGFuZA==" }), "malformed_authorization"],
    ["an empty Authorization", async () => ({ Authorization: "" }), "malformed_authorization"],
    ["two Authorization values", async () => bearer(`${await alice()}, Bearer ${await alice()}`), "malformed_authorization"],
  ];

  it.each(cases)("refuses %s with 401 invalid_token, and logs why", async (_, headers, code) => {
    const authorization = (await headers()).Authorization ?? "";
    for (const [method, path, body] of [
      ["GET", "/me"],
      ["GET", "/notes"],
      ["POST", "/notes", JSON.stringify({ text: "x" })],
      ["DELETE", "/notes/00000000-0000-4000-8000-000000000000"],
      ["POST", "/revocations"],
    ] as const) {
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
    const token = await alice(undefined, { jti: "j1", sid: "s1" });
    const { exp } = decodeSegment(token.split(".")[1]) as { exp: number };
    await api.request("POST", "/revocations", { token });

    storeClock = (exp + 4) * 1000;
    expect(await revocations.isRevoked({ jti: "j1" })).toBe(true);
    storeClock = (exp + 5) * 1000;
    expect(await revocations.isRevoked({ jti: "j1" })).toBe(false);

    const sessionEnds = Math.floor(clock / 1000) + 600 + 5;
    storeClock = (sessionEnds - 1) * 1000;
    expect(await revocations.isRevoked({ jti: "later", sid: "s1" })).toBe(true);
    storeClock = sessionEnds * 1000;
    expect(await revocations.isRevoked({ jti: "later", sid: "s1" })).toBe(false);
  });

  it("answers 503 on protected routes, and only there, when the store fails", async () => {
    const failing: RevocationStore = {
      isRevoked: () => Promise.reject(new Error("store down")),
      revoke: () => Promise.reject(new Error("store down")),
    };
    const api = setup({ revocations: failing });
    const token = await alice();
    for (const [method, path] of [["GET", "/me"], ["GET", "/notes"], ["POST", "/revocations"]] as const) {
      const res = await api.request(method, path, { token });
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(await res.json()).toEqual({ error: "temporarily_unavailable" });
    }
    expect((await api.request("GET", "/healthz")).status).toBe(200);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_check_failed", level: "error" }));
  });

  it("answers 503 when recording the revocation fails", async () => {
    const readOnly: RevocationStore = {
      isRevoked: async () => false,
      revoke: () => Promise.reject(new Error("read-only")),
    };
    const api = setup({ revocations: readOnly });
    const res = await api.request("POST", "/revocations", { token: await alice() });
    expect(res.status).toBe(503);
    expect(api.logs()).toContainEqual(expect.objectContaining({ event: "revocation_failed" }));
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
