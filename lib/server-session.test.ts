import { afterEach, describe, expect, it, vi } from "vitest";
import type { EndedSessions } from "./ended-sessions";
import { admitSession } from "./server-session";
import type { Session } from "./session";

const session: Session = {
  sub: "alice",
  sid: "sid-1",
  accessToken: "access-token",
  accessTokenExpiresAt: 1_900_000_300,
  refreshAt: 1_900_000_240,
  expiresAt: 1_900_028_800,
};

function store(isEnded: (sid: string) => Promise<boolean>) {
  const ended: EndedSessions = { isEnded: vi.fn(isEnded), end: vi.fn(), endOnce: vi.fn() };
  return { ended, open: () => ended };
}

afterEach(() => vi.restoreAllMocks());

describe("admitSession", () => {
  it("admits a session whose sid has not ended", async () => {
    const { ended, open } = store(async () => false);
    expect(await admitSession(session, open)).toBe(session);
    expect(ended.isEnded).toHaveBeenCalledWith("sid-1");
  });

  it("refuses a session whose sid has ended: a copy of a signed-out cookie", async () => {
    expect(await admitSession(session, store(async () => true).open)).toBeNull();
  });

  it("asks nothing when there is no session, or the session has no sid", async () => {
    const { ended, open } = store(async () => true);
    expect(await admitSession(null, open)).toBeNull();
    const withoutSid = { ...session, sid: undefined };
    expect(await admitSession(withoutSid, open)).toBe(withoutSid);
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
