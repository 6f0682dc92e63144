import { describe, expect, it, vi } from "vitest";
import { SERVICE_RETRY_AFTER_SECONDS } from "@/lib/http/json";
import { createKeepFresh, refreshFailureMemory, RETRY_AFTER_SECONDS, type KeepFreshResult } from "./keep-fresh";
import { refreshTime, UNREFRESHABLE_LIMIT } from "./policy";
import type { Session } from "@/lib/session/session";
import { createSingleFlight, type SingleFlight } from "./single-flight";
import { RefreshError } from "@/lib/idp/token-refresh";
import { deferred } from "@/lib/testing/fixtures";

const T0_MS = 1_893_456_000_000; // 2030-01-01T00:00:00Z
const GRACE_MS = 60_000;

/** A clock the test moves by hand, in milliseconds; keep-fresh reads it in seconds. */
function fakeClock() {
  let time = T0_MS;
  return {
    nowMs: () => time,
    nowSeconds: () => time / 1000,
    advanceSeconds: (seconds: number) => {
      time += seconds * 1000;
    },
  };
}

/** A session whose access token was issued `age` seconds ago and lives 300 s, refreshed 60 s early. */
function sessionAt(nowSeconds: number, age: number, overrides: Partial<Session> = {}): Session {
  const issuedAt = nowSeconds - age;
  return {
    id: "session-1",
    sub: "alice",
    sid: "sid-1",
    accessToken: "access-token-1",
    startedAt: issuedAt,
    accessTokenExpiresAt: issuedAt + 300,
    refreshAt: issuedAt + 240,
    refreshToken: "refresh-token-1",
    expiresAt: issuedAt + 8 * 3600,
    ...overrides,
  };
}

type RefreshImpl = (session: Session, rotate: (session: Session) => Promise<Session>) => Promise<Session>;

/**
 * A keep-fresh wired to a real single-flight (grace: 60 s) on the fake clock. The default `refresh` emulates
 * an IdP that rotates the refresh token: each call returns a new session, with a fresh access token that
 * lives `lifetime` seconds.
 */
function setup(refreshImpl?: RefreshImpl, { lifetime = 300 }: { lifetime?: number } = {}) {
  const clock = fakeClock();
  let issued = 1;
  const rotate = async (session: Session): Promise<Session> => {
    issued += 1;
    const now = clock.nowSeconds();
    return {
      ...session,
      accessToken: `access-token-${issued}`,
      refreshToken: `refresh-token-${issued}`,
      accessTokenExpiresAt: now + lifetime,
      refreshAt: refreshTime(now, now + lifetime),
    };
  };
  const refresh = vi.fn((session: Session) => (refreshImpl ? refreshImpl(session, rotate) : rotate(session)));
  const inner = createSingleFlight<Session>({ graceMs: GRACE_MS, now: clock.nowMs });
  const keys: string[] = [];
  const flights: SingleFlight<Session> = {
    run(key, task, usable) {
      keys.push(key);
      return inner.run(key, task, usable);
    },
  };
  const keepFresh = createKeepFresh({ refresh, flights, nowSeconds: clock.nowSeconds });
  /** Resolves once `n` calls have reached the single-flight, so they are all waiting on one in-flight refresh. */
  async function untilWaiting(n: number): Promise<void> {
    for (let i = 0; i < 1000 && keys.length < n; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
    expect(keys).toHaveLength(n);
  }
  return { clock, refresh, keys, keepFresh, untilWaiting, now: () => clock.nowSeconds() };
}

const unreachable = () => new RefreshError("idp_unreachable", "The IdP could not be reached");
const refused = () => new RefreshError("invalid_grant", "The IdP refused the refresh token");

function expectKind<K extends KeepFreshResult["kind"]>(result: KeepFreshResult, kind: K): Extract<KeepFreshResult, { kind: K }> {
  expect(result.kind).toBe(kind);
  return result as Extract<KeepFreshResult, { kind: K }>;
}

describe("keepFresh: no refresh needed", () => {
  it("returns a fresh session as it is, without refreshing", async () => {
    const { keepFresh, refresh, now } = setup();
    const session = sessionAt(now(), 10);
    const result = await keepFresh(session);
    expect(result).toEqual({ kind: "fresh", session });
    expect(refresh).not.toHaveBeenCalled();
  });

  it("uses a due session without a refresh token as it is, since its access token is still valid", async () => {
    const { keepFresh, refresh, now } = setup();
    const session = sessionAt(now(), 250, { refreshToken: undefined });
    const result = await keepFresh(session);
    expect(result).toEqual({ kind: "fresh", session });
    expect(refresh).not.toHaveBeenCalled();
  });
});

describe("keepFresh: refreshing", () => {
  it("refreshes a due session and returns the new one", async () => {
    const { keepFresh, refresh, now } = setup();
    const session = sessionAt(now(), 250);
    const result = expectKind(await keepFresh(session), "refreshed");
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh).toHaveBeenCalledWith(session);
    expect(result.session).toBe(await refresh.mock.results[0]?.value);
    expect(result.session.accessToken).toBe("access-token-2");
  });

  it("refreshes an expired session that still has a refresh token", async () => {
    const { keepFresh, refresh, now } = setup();
    const result = expectKind(await keepFresh(sessionAt(now(), 400)), "refreshed");
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(result.session.accessToken).toBe("access-token-2");
  });

  it("refreshes once for 20 concurrent calls with the same due session, and gives them all its result", async () => {
    const gate = deferred<void>();
    const { keepFresh, refresh, untilWaiting, now } = setup(async (session, rotate) => {
      await gate.promise;
      return rotate(session);
    });
    const session = sessionAt(now(), 250);
    const calls = Array.from({ length: 20 }, () => keepFresh(session));
    await untilWaiting(20);
    gate.resolve();
    const results = await Promise.all(calls);
    expect(refresh).toHaveBeenCalledTimes(1);
    const refreshed: unknown = await refresh.mock.results[0]?.value;
    expect(refreshed).toMatchObject({ accessToken: "access-token-2" });
    expect(results).toHaveLength(20);
    for (const result of results) expect(expectKind(result, "refreshed").session).toBe(refreshed);
  });

  it("refreshes separately for sessions with different refresh tokens", async () => {
    const { keepFresh, refresh, now } = setup();
    await Promise.all([keepFresh(sessionAt(now(), 250)), keepFresh(sessionAt(now(), 250, { refreshToken: "someone-elses-token" }))]);
    expect(refresh).toHaveBeenCalledTimes(2);
  });
});

describe("keepFresh: stale cookies", () => {
  it("brings a request still carrying the old session forward to the new one, without refreshing again", async () => {
    const { keepFresh, refresh, clock, now } = setup();
    const old = sessionAt(now(), 250);
    const first = expectKind(await keepFresh(old), "refreshed");
    clock.advanceSeconds(5);
    const later = expectKind(await keepFresh(old), "refreshed");
    expect(later.session).toBe(first.session);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("refreshes the old session again once the grace period is over", async () => {
    const { keepFresh, refresh, clock, now } = setup();
    const old = sessionAt(now(), 250);
    await keepFresh(old);
    clock.advanceSeconds(GRACE_MS / 1000);
    await keepFresh(old);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("follows a chain S1 → S2 → S3 of grace entries to the newest session, without refreshing again", async () => {
    const { keepFresh, refresh, clock, now } = setup(undefined, { lifetime: 20 });
    const s1 = sessionAt(now(), 250);
    const s2 = expectKind(await keepFresh(s1), "refreshed").session;
    clock.advanceSeconds(16); // S2 (a 20-second token) is due now, and S1's grace entry is still remembered
    const s3 = expectKind(await keepFresh(s2), "refreshed").session;
    expect(s3).not.toBe(s2);
    expect(refresh).toHaveBeenCalledTimes(2);

    const result = expectKind(await keepFresh(s1), "refreshed");
    expect(result.session).toBe(s3);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("stops following after a few hops when every refresh returns a session that is already due", async () => {
    const { keepFresh, refresh, now } = setup(async (session) => ({
      ...session,
      accessToken: `${session.accessToken}+`,
      refreshToken: `${session.refreshToken ?? ""}+`,
      refreshAt: now(),
      accessTokenExpiresAt: now() + 10,
    }));
    const result = await keepFresh(sessionAt(now(), 250));
    // Without a bound this would loop for ever (and time out).
    expect(result.kind).toBe("refreshed");
    expect(refresh.mock.calls.length).toBeGreaterThan(1);
    expect(refresh.mock.calls.length).toBeLessThanOrEqual(5);
  });
});

describe("keepFresh: failures", () => {
  it("ends the session when the IdP refuses the refresh token (invalid_grant)", async () => {
    const error = refused();
    const { keepFresh, now } = setup(() => Promise.reject(error));
    const result = await keepFresh(sessionAt(now(), 250));
    expect(result).toEqual({ kind: "ended", error });
  });

  it("degrades to the current session, unchanged, on a transient error while the token is still valid", async () => {
    const error = unreachable();
    const { keepFresh, now } = setup(() => Promise.reject(error));
    const session = sessionAt(now(), 250);
    const result = expectKind(await keepFresh(session), "degraded");
    expect(result.session).toBe(session);
    expect(result.changed).toBe(false);
    expect(result.error).toBe(error);
  });

  it("is unavailable on a transient error once the token has expired", async () => {
    const error = unreachable();
    const { keepFresh, now } = setup(() => Promise.reject(error));
    const result = await keepFresh(sessionAt(now(), 300));
    expect(result).toEqual({ kind: "unavailable", error });
  });

  it("is unavailable, even while the token is still valid, when the refresh cannot be coordinated across instances", async () => {
    const error = new RefreshError("coordination_unavailable", "Redis did not answer");
    const { keepFresh, now } = setup(() => Promise.reject(error));
    expect(await keepFresh(sessionAt(now(), 250))).toEqual({ kind: "unavailable", error });
    expect(await keepFresh(sessionAt(now(), 300))).toEqual({ kind: "unavailable", error });
  });

  it("never ends a session for want of coordination, however long Redis is away", async () => {
    const error = new RefreshError("coordination_unavailable", "Redis did not answer");
    const { keepFresh, clock, now } = setup(() => Promise.reject(error));
    const session = sessionAt(now(), 300);
    for (let minute = 0; minute <= UNREFRESHABLE_LIMIT / 60 + 1; minute += 1) {
      expect((await keepFresh(session)).kind).toBe("unavailable");
      clock.advanceSeconds(60);
    }
  });

  it("ends the session when another instance already spent its refresh token, or it was signed out meanwhile", async () => {
    for (const code of ["refresh_token_spent", "session_ended"] as const) {
      const error = new RefreshError(code, "over");
      const { keepFresh, now } = setup(() => Promise.reject(error));
      expect(await keepFresh(sessionAt(now(), 250))).toEqual({ kind: "ended", error });
    }
  });

  it("wraps an error that is not a RefreshError as invalid_response, which ends the session", async () => {
    const cause = new Error("unexpected");
    const { keepFresh, now } = setup(() => Promise.reject(cause));
    const result = expectKind(await keepFresh(sessionAt(now(), 250)), "ended");
    expect(result.error).toBeInstanceOf(RefreshError);
    expect(result.error.code).toBe("invalid_response");
    expect(result.error.cause).toBe(cause);
  });

  it.each(["refresh_refused", "invalid_response", "subject_mismatch"] as const)(
    "ends the session on any refusal but an unreachable IdP (%s), even while the token is still valid",
    async (code) => {
      const error = new RefreshError(code, "refused");
      const { keepFresh, now } = setup(() => Promise.reject(error));
      expect(await keepFresh(sessionAt(now(), 250))).toEqual({ kind: "ended", error });
    },
  );

  it("keeps an unrefreshable session for UNREFRESHABLE_LIMIT from its first failed refresh, then ends it", async () => {
    const error = unreachable();
    const { keepFresh, clock, now } = setup(() => Promise.reject(error));
    const session = sessionAt(now(), 300);
    expect(await keepFresh(session)).toEqual({ kind: "unavailable", error });
    clock.advanceSeconds(UNREFRESHABLE_LIMIT - 1);
    expect(await keepFresh(session)).toEqual({ kind: "unavailable", error });
    clock.advanceSeconds(1);
    const ended = expectKind(await keepFresh(session), "ended");
    expect(ended.error.code).toBe("idp_unreachable");
    expect(ended.error.message).toMatch(new RegExp(`has not answered this session's refresh for ${UNREFRESHABLE_LIMIT} s`));
    expect(ended.error.cause).toBe(error);
  });

  it("does not end a session back from a long break on one unanswered refresh: the limit counts from the first failure", async () => {
    const error = unreachable();
    const { keepFresh, now } = setup(() => Promise.reject(error));
    // Its token expired two hours ago; the IdP fails to answer its first refresh since.
    expect(await keepFresh(sessionAt(now(), 300 + 7200))).toEqual({ kind: "unavailable", error });
  });

  it("counts the limit afresh once the IdP answers again", async () => {
    let down = true;
    const { keepFresh, clock, now } = setup(async (session, rotate) => {
      if (down) throw unreachable();
      return rotate(session);
    });
    const session = sessionAt(now(), 250);
    expectKind(await keepFresh(session), "degraded");
    clock.advanceSeconds(UNREFRESHABLE_LIMIT - 10);
    down = false;
    const refreshed = expectKind(await keepFresh(session), "refreshed");
    down = true;
    clock.advanceSeconds(300);
    expectKind(await keepFresh(refreshed.session), "unavailable");
  });

  it("asks an unreachable IdP once per retry interval for a burst of requests, then again after it", async () => {
    const clock = fakeClock();
    const refresh = vi.fn(() => Promise.reject(unreachable()));
    const flights = createSingleFlight<Session>({ graceMs: GRACE_MS, rememberFailure: refreshFailureMemory, now: clock.nowMs });
    const keepFresh = createKeepFresh({ refresh, flights, nowSeconds: clock.nowSeconds });
    const session = sessionAt(clock.nowSeconds(), 300);
    for (let i = 0; i < 10; i += 1) expectKind(await keepFresh(session), "unavailable");
    expect(refresh).toHaveBeenCalledTimes(1);
    clock.advanceSeconds(RETRY_AFTER_SECONDS);
    expectKind(await keepFresh(session), "unavailable");
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("never sends a refused refresh token again: the refusal stands for every request that still carries it", async () => {
    const clock = fakeClock();
    const refresh = vi.fn(() => Promise.reject(refused()));
    const flights = createSingleFlight<Session>({ graceMs: GRACE_MS, rememberFailure: refreshFailureMemory, now: clock.nowMs });
    const keepFresh = createKeepFresh({ refresh, flights, nowSeconds: clock.nowSeconds });
    const session = sessionAt(clock.nowSeconds(), 250);
    expectKind(await keepFresh(session), "ended");
    clock.advanceSeconds(30);
    expectKind(await keepFresh(session), "ended");
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("ends an expired session that has no refresh token, without refreshing", async () => {
    const { keepFresh, refresh, now } = setup();
    const result = expectKind(await keepFresh(sessionAt(now(), 301, { refreshToken: undefined })), "ended");
    expect(result.error.code).toBe("invalid_grant");
    expect(refresh).not.toHaveBeenCalled();
  });

  it("degrades to the newer session, marked changed, when following a grace entry to a session whose refresh fails", async () => {
    let reachable = true;
    const { keepFresh, clock, now } = setup((session, rotate) => (reachable ? rotate(session) : Promise.reject(unreachable())), { lifetime: 20 });
    const s1 = sessionAt(now(), 250);
    const s2 = expectKind(await keepFresh(s1), "refreshed").session;
    clock.advanceSeconds(16); // S2 (a 20-second token) is due now, and S1's grace entry still points at it
    reachable = false;
    const result = expectKind(await keepFresh(s1), "degraded");
    expect(result.session).toBe(s2);
    expect(result.changed).toBe(true);
  });

  it("reports a transient error to every concurrent caller", async () => {
    const gate = deferred<Session>();
    const { keepFresh, refresh, untilWaiting, now } = setup(() => gate.promise);
    const session = sessionAt(now(), 250);
    const calls = Array.from({ length: 20 }, () => keepFresh(session));
    await untilWaiting(20);
    const error = unreachable();
    gate.reject(error);
    const results = await Promise.all(calls);
    expect(refresh).toHaveBeenCalledTimes(1);
    for (const result of results) expect(result).toEqual({ kind: "degraded", session, changed: false, error });
  });

  it("ends the session for every concurrent caller when the IdP refuses the refresh token", async () => {
    const gate = deferred<Session>();
    const { keepFresh, refresh, untilWaiting, now } = setup(() => gate.promise);
    const calls = Array.from({ length: 20 }, () => keepFresh(sessionAt(now(), 250)));
    await untilWaiting(20);
    const error = refused();
    gate.reject(error);
    const results = await Promise.all(calls);
    expect(refresh).toHaveBeenCalledTimes(1);
    for (const result of results) expect(result).toEqual({ kind: "ended", error });
  });

  it("tries again on the next call after a transient error", async () => {
    const { keepFresh, refresh, now } = setup();
    refresh.mockRejectedValueOnce(unreachable());
    const session = sessionAt(now(), 250);
    expect((await keepFresh(session)).kind).toBe("degraded");
    expect((await keepFresh(session)).kind).toBe("refreshed");
    expect(refresh).toHaveBeenCalledTimes(2);
  });
});

describe("keepFresh: flight keys", () => {
  it("never uses the refresh token itself, or anything containing it, as a flight key", async () => {
    const { keepFresh, keys, now } = setup();
    const session = sessionAt(now(), 250, { refreshToken: "rt-that-must-stay-secret" });
    await keepFresh(session);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toContain("rt-that-must-stay-secret");
  });

  it("derives the same key for the same refresh token and different keys for different ones", async () => {
    const { keepFresh, keys, now } = setup(() => Promise.reject(unreachable()));
    await keepFresh(sessionAt(now(), 250, { refreshToken: "token-a" }));
    await keepFresh(sessionAt(now(), 250, { refreshToken: "token-a" }));
    await keepFresh(sessionAt(now(), 250, { refreshToken: "token-b" }));
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });
});

describe("keepFresh: IdPs that do not rotate refresh tokens", () => {
  it("refreshes again when the next refresh falls due within the grace period, instead of handing back the spent result", async () => {
    const sameRefreshToken: RefreshImpl = async (session, rotate) => ({ ...(await rotate(session)), refreshToken: session.refreshToken });
    const { keepFresh, refresh, clock, now } = setup(sameRefreshToken, { lifetime: 40 });
    const first = expectKind(await keepFresh(sessionAt(now(), 250)), "refreshed");
    expect(first.session.refreshToken).toBe("refresh-token-1");

    clock.advanceSeconds(35); // due again (40 s tokens refresh 10 s early), well inside the 60 s grace period
    const second = expectKind(await keepFresh(first.session), "refreshed");
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(second.session.accessToken).not.toBe(first.session.accessToken);
    expect(second.session.accessTokenExpiresAt).toBeGreaterThan(first.session.accessTokenExpiresAt);
  });
});

describe("keepFresh: a refreshed ID token for another user", () => {
  it("ends the session", async () => {
    const { keepFresh, now } = setup(async () => {
      throw new RefreshError("subject_mismatch", "The refreshed ID token names another subject");
    });
    const result = expectKind(await keepFresh(sessionAt(now(), 250)), "ended");
    expect(result.error.code).toBe("subject_mismatch");
  });
});

describe("refreshFailureMemory", () => {
  it("asks an unreachable IdP again after the retry interval, Redis sooner, and never resends a refused token within the grace period", () => {
    expect(refreshFailureMemory(new RefreshError("idp_unreachable", "down"))).toBe(RETRY_AFTER_SECONDS * 1000);
    expect(refreshFailureMemory(new RefreshError("coordination_unavailable", "Redis down"))).toBe(SERVICE_RETRY_AFTER_SECONDS * 1000);
    expect(SERVICE_RETRY_AFTER_SECONDS).toBeLessThan(RETRY_AFTER_SECONDS);
    for (const code of ["invalid_grant", "refresh_token_spent", "session_ended"] as const) {
      expect(refreshFailureMemory(new RefreshError(code, "over"))).toBe(GRACE_MS);
    }
    expect(refreshFailureMemory(new Error("not a refresh error"))).toBe(0);
  });
});
