import type { Session } from "@/lib/session/session";

/** A promise settled from outside, so a test decides when a task finishes. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A signed-in session on the real clock: its access token is fresh, the session has eight hours to go. */
export function sessionFixture(overrides: Partial<Session> = {}): Session {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: "session-1",
    sub: "alice",
    sid: "sid-1",
    name: "Alice",
    email: "alice@example.com",
    accessToken: "access-token",
    accessTokenExpiresAt: now + 300,
    refreshAt: now + 240,
    refreshToken: "refresh-token",
    idToken: "id-token",
    startedAt: now - 60,
    expiresAt: now + 8 * 3600,
    ...overrides,
  };
}
