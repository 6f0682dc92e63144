import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { ApiRevocationError } from "@/lib/api/revocation";
import type { Session } from "@/lib/session/session";
import { signOut, type SignOutSteps } from "./sign-out";
import { SIGNED_OUT_COMPLETE, signedOutNotes } from "./notice";
import { TokenRevocationError } from "@/lib/idp/token-revocation";

const NOW = 1_900_000_000;
const END_SESSION = "https://idp.example/session/end";
const SIGNED_OUT = new URL("https://app.example/signed-out");

const session: Session = {
  id: "session-1",
  sub: "alice",
  sid: "sid-1",
  accessToken: "access-token-secret",
  startedAt: NOW - 60,
  accessTokenExpiresAt: NOW + 300,
  refreshAt: NOW + 240,
  refreshToken: "refresh-token-secret",
  idToken: "id.token.hint",
  expiresAt: NOW + 8 * 3600,
};

/** Steps that all succeed, recording the order they ran in; each test breaks one. */
function steps(overrides: Partial<SignOutSteps> = {}) {
  const calls: string[] = [];
  const record = <A extends unknown[], R>(name: string, result: (...args: A) => Promise<R>) =>
    vi.fn(async (...args: A) => {
      calls.push(name);
      return result(...args);
    });
  const all = {
    revokeRefreshToken: record("revokeRefreshToken", overrides.revokeRefreshToken ?? (async () => "revoked")),
    revokeAccessToken: record("revokeAccessToken", overrides.revokeAccessToken ?? (async () => "revoked")),
    endSession: record("endSession", overrides.endSession ?? (async () => {})),
    endSessionEndpoint: record("endSessionEndpoint", overrides.endSessionEndpoint ?? (async (): Promise<string | undefined> => END_SESSION)),
  };
  return { calls, steps: all };
}

const fail = (error: Error) => async () => {
  throw error;
};
const idpUnreachable = new TokenRevocationError("idp_unreachable", "The IdP could not be reached", { cause: new TypeError("fetch failed") });
const apiUnreachable = new ApiRevocationError("api_unreachable", "POST /revocations: the API could not be reached");

const run = (current: Session | null, injected: SignOutSteps) => signOut(current, injected, { clientId: "tessera-bff", signedOutUrl: SIGNED_OUT });

let errors: MockInstance<typeof console.error>;
let infos: MockInstance<typeof console.info>;
beforeEach(() => {
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
  infos = vi.spyOn(console, "info").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const logged = () => [...errors.mock.calls, ...infos.mock.calls].map((call) => String(call[0])).join("\n");

describe("signOut", () => {
  it("runs every step in order, then sends the browser to the IdP's end-session endpoint", async () => {
    const { calls, steps: injected } = steps();
    const location = await run(session, injected);

    expect(calls).toEqual(["revokeRefreshToken", "revokeAccessToken", "endSession", "endSessionEndpoint"]);
    expect(injected.revokeRefreshToken).toHaveBeenCalledWith("refresh-token-secret");
    expect(injected.revokeAccessToken).toHaveBeenCalledWith("access-token-secret");
    // Remembered until the session would have ended anyway.
    expect(injected.endSession).toHaveBeenCalledWith(session, NOW + 8 * 3600);

    expect(`${location.origin}${location.pathname}`).toBe(END_SESSION);
    expect(location.searchParams.get("id_token_hint")).toBe("id.token.hint");
    expect(location.searchParams.get("post_logout_redirect_uri")).toBe(SIGNED_OUT.href);
    expect(location.searchParams.get("client_id")).toBe("tessera-bff");
    expect(location.searchParams.get("state")).toBe(SIGNED_OUT_COMPLETE);
    expect(errors).not.toHaveBeenCalled();
  });

  it("with the API unreachable, still ends the session here and at the IdP, and says what was not completed", async () => {
    const { calls, steps: injected } = steps({ revokeAccessToken: fail(apiUnreachable) });
    const location = await run(session, injected);

    expect(calls).toEqual(["revokeRefreshToken", "revokeAccessToken", "endSession", "endSessionEndpoint"]);
    expect(location.href.startsWith(END_SESSION)).toBe(true);
    expect(location.searchParams.get("state")).toBe("api");
    expect(signedOutNotes(location.searchParams.get("state") ?? undefined)).toEqual([expect.stringMatching(/notes service/)]);
    expect(logged()).toMatch(/could not revoke the access token and its session at the API.*api_unreachable/);
  });

  it("with the IdP unreachable, does not send the browser there, and goes straight to the signed-out page", async () => {
    const { calls, steps: injected } = steps({ revokeRefreshToken: fail(idpUnreachable) });
    const location = await run(session, injected);

    expect(calls).toEqual(["revokeRefreshToken", "revokeAccessToken", "endSession"]);
    expect(location.href).toBe(`${SIGNED_OUT.href}?state=idp`);
    expect(logged()).toMatch(/could not revoke the refresh token at the IdP.*idp_unreachable/);
  });

  it("with the IdP and the API both unreachable, still records the session as ended", async () => {
    const { steps: injected } = steps({ revokeRefreshToken: fail(idpUnreachable), revokeAccessToken: fail(apiUnreachable) });
    const location = await run(session, injected);
    expect(injected.endSession).toHaveBeenCalledWith(session, session.expiresAt);
    expect(location.href).toBe(`${SIGNED_OUT.href}?state=idp.api`);
  });

  it("when the IdP refuses the revocation, logs it and still ends the IdP's session, without troubling the user", async () => {
    const refused = new TokenRevocationError("revocation_refused", "The IdP refused to revoke the refresh token");
    const { steps: injected } = steps({ revokeRefreshToken: fail(refused) });
    const location = await run(session, injected);
    expect(location.href.startsWith(END_SESSION)).toBe(true);
    expect(location.searchParams.get("state")).toBe(SIGNED_OUT_COMPLETE);
    expect(logged()).toMatch(/revocation_refused/);
  });

  it("when the session cannot be recorded as ended, says so, and carries on", async () => {
    const { steps: injected } = steps({ endSession: fail(new Error("Redis is down")) });
    const location = await run(session, injected);
    expect(location.href.startsWith(END_SESSION)).toBe(true);
    expect(location.searchParams.get("state")).toBe("app");
    expect(logged()).toMatch(/could not record the session as ended.*Redis is down/);
  });

  it("when the end-session endpoint cannot be found, goes straight to the signed-out page", async () => {
    const { steps: injected } = steps({ endSessionEndpoint: fail(new TypeError("fetch failed")) });
    expect((await run(session, injected)).href).toBe(`${SIGNED_OUT.href}?state=idp`);
  });

  it("when the IdP has no end-session endpoint, goes straight to the signed-out page", async () => {
    const { steps: injected } = steps({ endSessionEndpoint: async () => undefined });
    expect((await run(session, injected)).href).toBe(SIGNED_OUT.href);
  });

  it("skips what the session does not have, and lists it as ended even without an IdP sid", async () => {
    const { calls, steps: injected } = steps();
    await run({ ...session, refreshToken: undefined, sid: undefined }, injected);
    expect(calls).toEqual(["revokeAccessToken", "endSession", "endSessionEndpoint"]);
  });

  it("without a session, only ends the IdP's session, which then asks the user to confirm", async () => {
    const { calls, steps: injected } = steps();
    const location = await run(null, injected);
    expect(calls).toEqual(["endSessionEndpoint"]);
    expect(location.searchParams.has("id_token_hint")).toBe(false);
  });

  it("never writes a token to the log", async () => {
    const { steps: injected } = steps({ revokeRefreshToken: fail(idpUnreachable), revokeAccessToken: fail(apiUnreachable), endSession: fail(new Error("down")) });
    await run(session, injected);
    for (const secret of [session.accessToken, session.refreshToken!, session.idToken!]) expect(logged()).not.toContain(secret);
  });
});
