import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiRevocationError } from "@/lib/api/revocation";
import { handleBackchannelLogout, MAX_BODY_BYTES, type BackchannelLogoutDeps } from "./backchannel-logout";
import type { EndedSessions } from "@/lib/server/ended-sessions/store";
import { createSqliteEndedSessions, openEndedSessionsFile } from "@/lib/server/ended-sessions/sqlite";
import { createLogoutTokenVerifier, LogoutTokenError } from "@/lib/idp/logout-token";
import { createTestIdp, TEST_CLIENT_ID, TEST_ISSUER, type TestIdp } from "@/lib/testing/logout-tokens";
import { useTelemetry } from "@/lib/testing/telemetry";

const ENDPOINT = "https://app.example/auth/backchannel-logout";
const SESSION_MAX_AGE = 8 * 3600;
/** When the sessions these tests end started: a minute before each test. */
let SIGNED_IN: number;

let idp: TestIdp;
let sessions: EndedSessions;
let relay: ReturnType<typeof vi.fn<(token: string) => Promise<void>>>;
let deps: BackchannelLogoutDeps;

beforeAll(async () => {
  idp = await createTestIdp();
});
beforeEach(() => {
  SIGNED_IN = Math.floor(Date.now() / 1000) - 60;
  sessions = createSqliteEndedSessions(openEndedSessionsFile(":memory:"));
  relay = vi.fn(async () => {});
  deps = {
    verify: createLogoutTokenVerifier({ issuer: TEST_ISSUER, clientId: TEST_CLIENT_ID, getKey: idp.getKey }),
    sessions,
    relay,
    sessionMaxAge: SESSION_MAX_AGE,
  };
  vi.spyOn(console, "info").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

function post(body: string, headers: Record<string, string> = {}): Request {
  return new Request(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)), ...headers },
    body,
  });
}

const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

async function expectRefused(response: Response, error = "invalid_request") {
  expect(response.status).toBe(400);
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(await response.json()).toMatchObject({ error });
}

/** A form body as a stream with no declared length: what chunked transfer encoding delivers. */
function chunked(body: string): Request {
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 1024) controller.enqueue(bytes.subarray(offset, offset + 1024));
      controller.close();
    },
  });
  return new Request(ENDPOINT, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: stream, duplex: "half" } as RequestInit);
}

describe("handleBackchannelLogout", () => {
  it("ends the session the token names, passes the token on to the API, and answers 200, not cached", async () => {
    const token = await idp.logoutToken({ sid: "sid-7" });
    const response = await handleBackchannelLogout(post(form(token)), deps);

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await sessions.isEnded(SIGNED_IN, "idp:sid-7")).toBe(true);
    expect(relay).toHaveBeenCalledWith(token);
  });

  it("remembers the session for as long as any session could last", async () => {
    const endOnce = vi.fn(async () => true);
    const now = 1_900_000_000_000;
    const token = await idp.logoutToken({ sid: "sid-7", jti: "j-7" }, { nowSeconds: now / 1000 });
    await handleBackchannelLogout(post(form(token)), { ...deps, sessions: { endOnce }, now: () => now, verify: createLogoutTokenVerifier({ issuer: TEST_ISSUER, clientId: TEST_CLIENT_ID, getKey: idp.getKey, now: () => now }) });
    expect(endOnce).toHaveBeenCalledWith("idp:sid-7", now / 1000 + SESSION_MAX_AGE, { jti: "j-7", until: now / 1000 + 120 + 5 });
  });

  it("refuses a replayed token with 400, and changes nothing the second time", async () => {
    const token = await idp.logoutToken({ sid: "sid-7" });
    expect((await handleBackchannelLogout(post(form(token)), deps)).status).toBe(200);
    const endOnce = vi.spyOn(sessions, "endOnce");

    await expectRefused(await handleBackchannelLogout(post(form(token)), deps));
    expect(await endOnce.mock.results[0]?.value).toBe(false);
    expect(relay).toHaveBeenCalledTimes(1);
  });

  it("ends every session of the user that had started, for a token that names only a subject, and passes it on", async () => {
    const token = await idp.logoutToken({ sid: undefined, sub: "alice" });
    expect((await handleBackchannelLogout(post(form(token)), deps)).status).toBe(200);
    expect(await sessions.isEnded(SIGNED_IN, "subject:alice")).toBe(true);
    expect(await sessions.isEnded(SIGNED_IN, "subject:bob")).toBe(false);
    expect(relay).toHaveBeenCalledWith(token);
  });

  it("ends a user's sessions up to the moment the IdP issued the token, not the ones signed in after it, however late it came", async () => {
    const endOnce = vi.fn(async () => true);
    const now = 1_900_000_000_000;
    const issuedAt = now / 1000 - 90;
    const token = await idp.logoutToken({ sid: undefined, sub: "alice", jti: "j-8" }, { nowSeconds: issuedAt });
    await handleBackchannelLogout(post(form(token)), { ...deps, sessions: { endOnce }, now: () => now, verify: createLogoutTokenVerifier({ issuer: TEST_ISSUER, clientId: TEST_CLIENT_ID, getKey: idp.getKey, now: () => now }) });
    expect(endOnce).toHaveBeenCalledWith("subject:alice", now / 1000 + SESSION_MAX_AGE, { jti: "j-8", until: issuedAt + 120 + 5 }, issuedAt);
  });

  it("still answers 200 when the API cannot be reached: the session has ended here, and the failure is logged", async () => {
    relay.mockRejectedValue(new ApiRevocationError("api_unreachable", "POST /revocations/logout-token: the API could not be reached"));
    const token = await idp.logoutToken({ sid: "sid-7" });
    expect((await handleBackchannelLogout(post(form(token)), deps)).status).toBe(200);
    expect(await sessions.isEnded(SIGNED_IN, "idp:sid-7")).toBe(true);
    expect(String(vi.mocked(console.error).mock.calls[0]?.[0])).toMatch(/the API did not take the logout token.*api_unreachable/);
  });

  describe("refuses with 400 invalid_request and changes nothing", () => {
    it("a token that does not verify", async () => {
      const forged = await idp.logoutToken({ sid: "sid-7" }, { key: idp.otherKey });
      await expectRefused(await handleBackchannelLogout(post(form(forged)), deps));
      expect(await sessions.isEnded(SIGNED_IN, "idp:sid-7")).toBe(false);
      expect(relay).not.toHaveBeenCalled();
    });

    it("an ID token passed off as a logout token", async () => {
      const idToken = await idp.logoutToken({ sid: "sid-7", events: undefined, nonce: "n" }, { typ: "JWT" });
      await expectRefused(await handleBackchannelLogout(post(form(idToken)), deps));
      expect(await sessions.isEnded(SIGNED_IN, "idp:sid-7")).toBe(false);
    });

    it("a body that is not a form", async () => {
      const token = await idp.logoutToken();
      const body = JSON.stringify({ logout_token: token });
      await expectRefused(await handleBackchannelLogout(post(body, { "content-type": "application/json" }), deps));
    });

    it("a form without a logout_token, or with two", async () => {
      const token = await idp.logoutToken();
      await expectRefused(await handleBackchannelLogout(post("other=1"), deps));
      await expectRefused(await handleBackchannelLogout(post(`${form(token)}&${form(token)}`), deps));
      await expectRefused(await handleBackchannelLogout(post("logout_token="), deps));
      expect(relay).not.toHaveBeenCalled();
    });

    it("a body over the size limit, declared or chunked", async () => {
      const token = await idp.logoutToken();
      const padded = `${form(token)}&pad=${"x".repeat(MAX_BODY_BYTES)}`;
      await expectRefused(await handleBackchannelLogout(post(padded), deps));
      await expectRefused(await handleBackchannelLogout(chunked(padded), deps));
      expect(relay).not.toHaveBeenCalled();
    });
  });

  describe("takes a body sent with chunked transfer encoding, without a Content-Length, as some IdPs send it", () => {
    it("ends the session it names", async () => {
      const token = await idp.logoutToken({ sid: "sid-chunked" });
      const response = await handleBackchannelLogout(chunked(form(token)), deps);
      expect(response.status).toBe(200);
      expect(await sessions.isEnded(SIGNED_IN, "idp:sid-chunked")).toBe(true);
    });
  });

  describe("answers 400 temporarily_unavailable, recording nothing, so that the IdP may send again", () => {
    it("when the IdP's keys cannot be fetched", async () => {
      const verify = async () => {
        throw new LogoutTokenError("keys_unavailable", "The IdP's signing keys could not be fetched");
      };
      const token = await idp.logoutToken({ sid: "sid-7" });
      await expectRefused(await handleBackchannelLogout(post(form(token)), { ...deps, verify }), "temporarily_unavailable");
      expect(await sessions.isEnded(SIGNED_IN, "idp:sid-7")).toBe(false);
      // The same token is accepted once the keys are back.
      expect((await handleBackchannelLogout(post(form(token)), deps)).status).toBe(200);
    });

    it("when the store of ended sessions fails", async () => {
      const endOnce = async () => {
        throw new Error("Redis is down");
      };
      const token = await idp.logoutToken({ sid: "sid-7" });
      await expectRefused(await handleBackchannelLogout(post(form(token)), { ...deps, sessions: { endOnce } }), "temporarily_unavailable");
      expect(relay).not.toHaveBeenCalled();
      expect((await handleBackchannelLogout(post(form(token)), deps)).status).toBe(200);
    });
  });

  it("never writes the logout token to the log", async () => {
    const token = await idp.logoutToken({ sid: "sid-7" });
    await handleBackchannelLogout(post(form(token)), deps);
    await handleBackchannelLogout(post(form(token)), deps);
    const lines = [...vi.mocked(console.info).mock.calls, ...vi.mocked(console.error).mock.calls].map((call) => String(call[0])).join("\n");
    expect(lines).toContain("sid-7");
    expect(lines).not.toContain(token.split(".")[2]);
  });
});

describe("handleBackchannelLogout telemetry", () => {
  const telemetry = useTelemetry({ traces: false });
  const tokens = () => telemetry.collectMetric("tessera.backchannel_logout.tokens");

  it("counts a token that ended a session as accepted, even when the API did not take it", async () => {
    await handleBackchannelLogout(post(form(await idp.logoutToken({ sid: "sid-1" }))), deps);
    relay.mockRejectedValue(new ApiRevocationError("api_unreachable", "the API could not be reached"));
    await handleBackchannelLogout(post(form(await idp.logoutToken({ sid: "sid-2" }))), deps);
    expect(await tokens()).toEqual([{ attributes: { "tessera.outcome": "accepted" }, value: 2 }]);
  });

  it("counts a replayed token as refused, replayed, after its first use was accepted", async () => {
    const token = await idp.logoutToken({ sid: "sid-7" });
    await handleBackchannelLogout(post(form(token)), deps);
    await handleBackchannelLogout(post(form(token)), deps);
    expect(await tokens()).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.outcome": "accepted" }, value: 1 },
        { attributes: { "tessera.outcome": "refused", "tessera.reason": "replayed" }, value: 1 },
      ]),
    );
    expect(await telemetry.total("tessera.backchannel_logout.tokens")).toBe(2);
  });

  it("counts each refusal by its reason: a malformed request, a token that does not verify, keys or store unavailable", async () => {
    await handleBackchannelLogout(post("other=1"), deps);
    await handleBackchannelLogout(post(form(await idp.logoutToken({ sid: "sid-7" }, { key: idp.otherKey }))), deps);
    const keysAway = async () => {
      throw new LogoutTokenError("keys_unavailable", "The IdP's signing keys could not be fetched");
    };
    await handleBackchannelLogout(post(form(await idp.logoutToken({ sid: "sid-7" }))), { ...deps, verify: keysAway });
    const storeAway = async () => {
      throw new Error("Redis is down");
    };
    await handleBackchannelLogout(post(form(await idp.logoutToken({ sid: "sid-7" }))), { ...deps, sessions: { endOnce: storeAway } });
    const refused = (reason: string) => ({ attributes: { "tessera.outcome": "refused", "tessera.reason": reason }, value: 1 });
    const points = await tokens();
    expect(points).toHaveLength(4);
    expect(points).toEqual(expect.arrayContaining([refused("bad_request"), refused("invalid_logout_token"), refused("keys_unavailable"), refused("store_unavailable")]));
  });
});
