import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE } from "@/lib/idp/jwt-rules";
import { createSessionCodec } from "./codec";
import { SessionError, newSession, sessionFromPayload, sessionPayload, toPublicSession, withRefreshedTokens, type NewSessionInput, type Session } from "./session";

const NOW = 1_893_456_000; // 2030-01-01T00:00:00Z
const MAX_AGE = 8 * 60 * 60;

const ACCESS_TOKEN = "opaque-access-token-9f8e7d";
const REFRESH_TOKEN = "refresh-token-6c5b4a";
const ID_TOKEN = "id-token-header.id-token-payload.id-token-signature";

function input(overrides: Partial<NewSessionInput> = {}): NewSessionInput {
  return {
    tokens: { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, id_token: ID_TOKEN, expires_at: NOW + 300 },
    claims: { sub: "alice", sid: "sid-1", name: "Alice", email: "alice@example.com", iat: NOW - 1 },
    nowSeconds: NOW,
    maxAge: MAX_AGE,
    id: "session-1",
    ...overrides,
  };
}

function sessionError(create: () => unknown): SessionError {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionError);
    return error as SessionError;
  }
  throw new Error("expected a SessionError");
}

describe("newSession", () => {
  it("gives every sign-in a new random id of its own", () => {
    const { id: _fixed, ...random } = input();
    const first = newSession(random);
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(newSession(random).id).not.toBe(first.id);
  });

  it("keeps the tokens and claims of the sign-in", () => {
    expect(newSession(input())).toEqual({
      id: "session-1",
      sub: "alice",
      sid: "sid-1",
      name: "Alice",
      email: "alice@example.com",
      accessToken: ACCESS_TOKEN,
      accessTokenExpiresAt: NOW + 300,
      refreshAt: NOW + 240,
      refreshToken: REFRESH_TOKEN,
      idToken: ID_TOKEN,
      startedAt: NOW - 1,
      expiresAt: NOW + MAX_AGE,
    });
  });

  it("dates the session's start by the IdP's clock, the ID token's iat, and by its own without one", () => {
    expect(newSession(input({ claims: { sub: "alice", iat: NOW - 7.5 } })).startedAt).toBe(NOW - 8);
    expect(newSession(input({ claims: { sub: "alice" } })).startedAt).toBe(NOW);
  });

  it("never dates the session's start later than its own clock allows, whatever the ID token says", () => {
    expect(newSession(input({ claims: { sub: "alice", iat: NOW + 4 } })).startedAt).toBe(NOW + 4);
    expect(newSession(input({ claims: { sub: "alice", iat: NOW * 1000 } })).startedAt).toBe(NOW + CLOCK_TOLERANCE);
  });

  it("takes the access-token expiry from expires_at when the token response gives it", () => {
    const jwt = new UnsecuredJWT({}).setExpirationTime(NOW + 9999).encode();
    const session = newSession(input({ tokens: { access_token: jwt, expires_at: NOW + 120 } }));
    expect(session.accessTokenExpiresAt).toBe(NOW + 120);
  });

  it("falls back to the exp of a signed JWT access token", async () => {
    const jwt = await new SignJWT({ scope: "notes:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(NOW + 600)
      .sign(new TextEncoder().encode("k".repeat(32)));
    expect(newSession(input({ tokens: { access_token: jwt } })).accessTokenExpiresAt).toBe(NOW + 600);
  });

  it("falls back to the exp of an unsecured JWT access token", () => {
    const jwt = new UnsecuredJWT({}).setExpirationTime(NOW + 450).encode();
    expect(newSession(input({ tokens: { access_token: jwt } })).accessTokenExpiresAt).toBe(NOW + 450);
  });

  it("refuses an opaque access token with no expires_at", () => {
    expect(sessionError(() => newSession(input({ tokens: { access_token: ACCESS_TOKEN } }))).code).toBe("missing_expiry");
  });

  it("refuses a JWT access token without exp and no expires_at", () => {
    const jwt = new UnsecuredJWT({ sub: "alice" }).encode();
    expect(sessionError(() => newSession(input({ tokens: { access_token: jwt } }))).code).toBe("missing_expiry");
  });

  it("refuses a token response without an access token", () => {
    expect(sessionError(() => newSession(input({ tokens: { expires_at: NOW + 300 } }))).code).toBe("missing_access_token");
  });

  it.each([undefined, "", 42, null])("refuses the subject %j", (sub) => {
    expect(sessionError(() => newSession(input({ claims: { sub } }))).code).toBe("missing_subject");
  });

  it("drops optional claims that are not non-empty strings", () => {
    const session = newSession(input({ claims: { sub: "alice", sid: 7, name: "", email: { x: 1 } } }));
    expect(session.sid).toBeUndefined();
    expect(session.name).toBeUndefined();
    expect(session.email).toBeUndefined();
  });

  it("works without a refresh token or ID token", () => {
    const session = newSession(input({ tokens: { access_token: ACCESS_TOKEN, expires_at: NOW + 300 } }));
    expect(session.refreshToken).toBeUndefined();
    expect(session.idToken).toBeUndefined();
  });

  it("ends the session maxAge after sign-in when the refresh token outlives it", () => {
    const session = newSession(input({ tokens: { access_token: ACCESS_TOKEN, expires_at: NOW + 300, refresh_expires_in: MAX_AGE * 2 } }));
    expect(session.expiresAt).toBe(NOW + MAX_AGE);
  });

  it("ends the session with the refresh token when that expires first", () => {
    const session = newSession(input({ tokens: { access_token: ACCESS_TOKEN, expires_at: NOW + 300, refresh_expires_in: 1800 } }));
    expect(session.expiresAt).toBe(NOW + 1800);
  });

  it("treats refresh_expires_in 0 (Keycloak's 'no limit') as no limit", () => {
    const session = newSession(input({ tokens: { access_token: ACCESS_TOKEN, expires_at: NOW + 300, refresh_expires_in: 0 } }));
    expect(session.expiresAt).toBe(NOW + MAX_AGE);
  });
});

describe("newSession's refresh time", () => {
  it("is 60 seconds before expiry for a 5-minute token", () => {
    expect(newSession(input()).refreshAt).toBe(NOW + 240);
  });

  it("is a quarter of the lifetime early for a very short token", () => {
    const session = newSession(input({ tokens: { access_token: ACCESS_TOKEN, expires_at: NOW + 8 } }));
    expect(session.refreshAt).toBe(NOW + 6);
  });

  it("follows a configured skew", () => {
    expect(newSession(input({ refreshSkew: 30 })).refreshAt).toBe(NOW + 270);
  });
});

describe("withRefreshedTokens", () => {
  const session = newSession(input());
  const LATER = NOW + 250;

  it("takes the new access token, its expiry and the rotated refresh token", () => {
    const next = withRefreshedTokens(session, { access_token: "at-2", refresh_token: "rt-2", expires_at: LATER + 300 }, LATER);
    expect(next).toMatchObject({ accessToken: "at-2", accessTokenExpiresAt: LATER + 300, refreshAt: LATER + 240, refreshToken: "rt-2" });
  });

  it("keeps the refresh token and ID token when the IdP does not send new ones", () => {
    const next = withRefreshedTokens(session, { access_token: "at-2", expires_at: LATER + 300 }, LATER);
    expect(next.refreshToken).toBe(REFRESH_TOKEN);
    expect(next.idToken).toBe(ID_TOKEN);
  });

  it("never moves the session's end or who it belongs to", () => {
    const next = withRefreshedTokens(session, { access_token: "at-2", refresh_token: "rt-2", id_token: "id-2", expires_at: LATER + 300 }, LATER);
    expect(next).toMatchObject({ sub: session.sub, sid: session.sid, name: session.name, email: session.email, startedAt: session.startedAt, expiresAt: session.expiresAt, idToken: "id-2" });
  });

  it("refuses a response without an access token", () => {
    expect(() => withRefreshedTokens(session, { refresh_token: "rt-2" }, LATER)).toThrow(SessionError);
  });
});

describe("sessionFromPayload", () => {
  const session: Session = newSession(input());

  it("reads back a session stored as sessionPayload plus exp", () => {
    expect(sessionFromPayload({ ...sessionPayload(session), exp: session.expiresAt })).toEqual(session);
  });

  it("round-trips through the session codec", async () => {
    const codec = createSessionCodec(["s".repeat(32)], "salt", () => NOW * 1000);
    const token = await codec.seal(sessionPayload(session), session.expiresAt);
    expect(sessionFromPayload(await codec.open(token))).toEqual(session);
  });

  it("keeps the expiry out of the payload, since the seal's exp carries it", () => {
    expect(sessionPayload(session)).not.toHaveProperty("expiresAt");
  });

  it("returns null for null", () => {
    expect(sessionFromPayload(null)).toBeNull();
  });

  it.each([
    ["no sub", { accessToken: "a", accessTokenExpiresAt: NOW, refreshAt: NOW, exp: NOW }],
    ["a numeric sub", { sub: 1, accessToken: "a", accessTokenExpiresAt: NOW, refreshAt: NOW, exp: NOW }],
    ["no access token", { sub: "alice", accessTokenExpiresAt: NOW, refreshAt: NOW, exp: NOW }],
    ["an access-token expiry as a string", { sub: "alice", accessToken: "a", accessTokenExpiresAt: String(NOW), refreshAt: NOW, exp: NOW }],
    ["no id", { sub: "alice", accessToken: "a", accessTokenExpiresAt: NOW, refreshAt: NOW, exp: NOW }],
    ["no refresh time", { sub: "alice", accessToken: "a", accessTokenExpiresAt: NOW, exp: NOW }],
    ["no exp", { sub: "alice", accessToken: "a", accessTokenExpiresAt: NOW, refreshAt: NOW }],
    ["an empty object", {}],
  ])("returns null for a payload with %s", (_name, payload) => {
    expect(sessionFromPayload(payload)).toBeNull();
  });

  it("reads a session sealed without its start as the oldest possible, so that a logout of all sessions ends it", () => {
    const { startedAt: _startedAt, ...payload } = sessionPayload(session);
    expect(sessionFromPayload({ ...payload, exp: session.expiresAt })?.startedAt).toBe(0);
    expect(sessionFromPayload({ ...payload, startedAt: "yesterday", exp: session.expiresAt })?.startedAt).toBe(0);
  });

  it("drops optional fields of the wrong type", () => {
    const parsed = sessionFromPayload({ id: "s", sub: "alice", accessToken: "a", accessTokenExpiresAt: NOW, refreshAt: NOW, exp: NOW, refreshToken: 5, idToken: {} });
    expect(parsed).not.toBeNull();
    expect(parsed?.refreshToken).toBeUndefined();
    expect(parsed?.idToken).toBeUndefined();
  });
});

describe("toPublicSession", () => {
  const session = newSession(input());

  it("has exactly the documented keys", () => {
    expect(Object.keys(toPublicSession(session)).sort()).toEqual(["accessTokenExpiresAt", "email", "name", "sessionExpiresAt", "sub"]);
  });

  it("exposes no token", () => {
    const json = JSON.stringify(toPublicSession(session));
    for (const token of [ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN, "id-token-payload"]) expect(json).not.toContain(token);
    expect(json).not.toMatch(/token"\s*:/i);
  });

  it("exposes no JWT access token either", () => {
    const jwt = new UnsecuredJWT({ sub: "alice" }).setExpirationTime(NOW + 300).encode();
    const json = JSON.stringify(toPublicSession(newSession(input({ tokens: { access_token: jwt, refresh_token: REFRESH_TOKEN } }))));
    expect(json).not.toContain(jwt);
    expect(json).not.toContain(jwt.split(".")[1]);
  });

  it("gives the claims and ISO timestamps", () => {
    expect(toPublicSession(session)).toEqual({
      sub: "alice",
      name: "Alice",
      email: "alice@example.com",
      sessionExpiresAt: new Date((NOW + MAX_AGE) * 1000).toISOString(),
      accessTokenExpiresAt: "2030-01-01T00:05:00.000Z",
    });
  });

  it("gives null for a missing name and email", () => {
    const bare = newSession(input({ claims: { sub: "bob" } }));
    expect(toPublicSession(bare)).toMatchObject({ sub: "bob", name: null, email: null });
  });
});
