import { afterEach, describe, expect, it, vi } from "vitest";
import { endedKey, type EndedSessions } from "@/lib/server/ended-sessions/store";
import { createSqliteEndedSessions, openEndedSessionsFile } from "@/lib/server/ended-sessions/sqlite";
import { admitSession, SessionCheckUnavailableError } from "./session-reader";
import type { Session } from "@/lib/session/session";
import { useTelemetry } from "@/lib/testing/telemetry";

const session: Session = {
  id: "session-1",
  sub: "alice",
  sid: "sid-1",
  accessToken: "access-token",
  startedAt: 1_900_000_000,
  accessTokenExpiresAt: 1_900_000_300,
  refreshAt: 1_900_000_240,
  expiresAt: 1_900_028_800,
};

function store(isEnded: (startedAt: number, ...keys: string[]) => Promise<boolean>) {
  const ended: EndedSessions = { isEnded: vi.fn(isEnded), end: vi.fn(), endOnce: vi.fn() };
  return { ended, open: () => ended };
}

afterEach(() => vi.restoreAllMocks());

describe("admitSession", () => {
  it("admits a session that has not ended, asking once, with its start, for the session, its user and its IdP session", async () => {
    const { ended, open } = store(async () => false);
    expect(await admitSession(session, open)).toBe(session);
    expect(ended.isEnded).toHaveBeenCalledOnce();
    expect(ended.isEnded).toHaveBeenCalledWith(1_900_000_000, "session:session-1", "subject:alice", "idp:sid-1");
  });

  it("asks for no IdP session when the IdP names none", async () => {
    const { ended, open } = store(async () => false);
    const withoutSid = { ...session, sid: undefined };
    expect(await admitSession(withoutSid, open)).toBe(withoutSid);
    expect(ended.isEnded).toHaveBeenCalledWith(1_900_000_000, "session:session-1", "subject:alice");
  });

  it("admits a new session that reuses an ended session's IdP sid, when only the old app session was signed out", async () => {
    const signedOut = new Set(["session:session-1"]);
    const { open } = store(async (_startedAt, ...keys) => keys.some((key) => signedOut.has(key)));
    const next = { ...session, id: "session-2" };
    expect(await admitSession(next, open)).toBe(next);
    expect(await admitSession(session, open)).toBeNull();
  });

  it("refuses the sessions a logout of all the user's sessions found started, and admits a sign-in after it", async () => {
    const loggedOutAt = session.startedAt + 100;
    const ended = createSqliteEndedSessions(openEndedSessionsFile(":memory:"), () => loggedOutAt * 1000);
    await ended.end(endedKey.subject("alice"), loggedOutAt + 8 * 3600, loggedOutAt);
    expect(await admitSession(session, () => ended)).toBeNull();
    const signedInAgain = { ...session, id: "session-2", sid: "sid-2", startedAt: loggedOutAt + 1 };
    expect(await admitSession(signedInAgain, () => ended)).toBe(signedInAgain);
    const otherUser = { ...session, id: "session-3", sub: "bob" };
    expect(await admitSession(otherUser, () => ended)).toBe(otherUser);
  });

  it("refuses a session whose sid has ended: a copy of a signed-out cookie", async () => {
    expect(await admitSession(session, store(async () => true).open)).toBeNull();
  });

  it("asks nothing when there is no session", async () => {
    const { ended, open } = store(async () => true);
    expect(await admitSession(null, open)).toBeNull();
    expect(ended.isEnded).not.toHaveBeenCalled();
  });

  it("fails closed, keeping the session, and logs it, when the list cannot be read", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const admitted = admitSession(session, store(async () => Promise.reject(new Error("Redis is down"))).open);
    await expect(admitted).rejects.toBeInstanceOf(SessionCheckUnavailableError);
    await expect(admitted).rejects.toMatchObject({ code: "session_check_unavailable" });
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/could not read the list of ended sessions.*Redis is down/);
  });

  it("fails closed when the store cannot even be opened", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const open = () => {
      throw new Error("unable to open database file");
    };
    await expect(admitSession(session, open)).rejects.toBeInstanceOf(SessionCheckUnavailableError);
  });
});

describe("admitSession telemetry", () => {
  const telemetry = useTelemetry({ traces: false });
  const refusals = () => telemetry.collectMetric("tessera.session.ended_refusals");

  it("counts a session refused because it was ended", async () => {
    await admitSession(session, store(async () => true).open);
    await admitSession(session, store(async () => true).open);
    expect(await refusals()).toEqual([{ attributes: {}, value: 2 }]);
  });

  it("counts nothing for a session admitted, no session, or a list that cannot be read", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    await admitSession(session, store(async () => false).open);
    await admitSession(null, store(async () => true).open);
    await admitSession(session, store(async () => Promise.reject(new Error("Redis is down"))).open).catch(() => {});
    expect(await refusals()).toEqual([]);
  });
});
