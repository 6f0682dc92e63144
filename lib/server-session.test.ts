import { afterEach, describe, expect, it, vi } from "vitest";
import type { EndedSessions } from "./ended-sessions";
import { admitSession } from "./server-session";
import type { Session } from "./session";

const session: Session = {
  id: "session-1",
  sub: "alice",
  sid: "sid-1",
  accessToken: "access-token",
  accessTokenExpiresAt: 1_900_000_300,
  refreshAt: 1_900_000_240,
  expiresAt: 1_900_028_800,
};

function store(isEnded: (...keys: string[]) => Promise<boolean>) {
  const ended: EndedSessions = { isEnded: vi.fn(isEnded), end: vi.fn(), endOnce: vi.fn() };
  return { ended, open: () => ended };
}

afterEach(() => vi.restoreAllMocks());

describe("admitSession", () => {
  it("admits a session that has not ended, asking once for the session and its IdP session", async () => {
    const { ended, open } = store(async () => false);
    expect(await admitSession(session, open)).toBe(session);
    expect(ended.isEnded).toHaveBeenCalledOnce();
    expect(ended.isEnded).toHaveBeenCalledWith("session:session-1", "idp:sid-1");
  });

  it("lists only this app's session id when the IdP names no session", async () => {
    const { ended, open } = store(async () => false);
    const withoutSid = { ...session, sid: undefined };
    expect(await admitSession(withoutSid, open)).toBe(withoutSid);
    expect(ended.isEnded).toHaveBeenCalledWith("session:session-1");
  });

  it("admits a new session that reuses an ended session's IdP sid, when only the old app session was signed out", async () => {
    const signedOut = new Set(["session:session-1"]);
    const { open } = store(async (...keys) => keys.some((key) => signedOut.has(key)));
    const next = { ...session, id: "session-2" };
    expect(await admitSession(next, open)).toBe(next);
    expect(await admitSession(session, open)).toBeNull();
  });

  it("refuses a session whose sid has ended: a copy of a signed-out cookie", async () => {
    expect(await admitSession(session, store(async () => true).open)).toBeNull();
  });

  it("asks nothing when there is no session", async () => {
    const { ended, open } = store(async () => true);
    expect(await admitSession(null, open)).toBeNull();
    expect(ended.isEnded).not.toHaveBeenCalled();
  });

  it("fails open, and logs it, when the list cannot be read", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await admitSession(session, store(async () => Promise.reject(new Error("Redis is down"))).open)).toBe(session);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/could not read the list of ended sessions.*Redis is down/);
  });

  it("fails open when the store cannot even be opened", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const open = () => {
      throw new Error("unable to open database file");
    };
    expect(await admitSession(session, open)).toBe(session);
  });
});
