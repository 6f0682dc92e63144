import { describe, expect, it, vi } from "vitest";
import { rememberOpenedSessions } from "./opened-sessions";
import type { Session } from "@/lib/session/session";
import { sessionFixture } from "@/lib/testing/fixtures";

const T0 = 1_700_000_000;

function opener(sessions: Record<string, Session>) {
  return vi.fn(async (sealed: string) => sessions[sealed] ?? null);
}

describe("rememberOpenedSessions", () => {
  it("opens a cookie once, and answers the same cookie again from memory", async () => {
    const alice = sessionFixture({ expiresAt: T0 + 3600 });
    const open = opener({ "sealed-a": alice });
    const read = rememberOpenedSessions(open, { now: () => T0 * 1000 });
    expect(await read("sealed-a")).toBe(alice);
    expect(await read("sealed-a")).toBe(alice);
    expect(open).toHaveBeenCalledOnce();
  });

  it("opens any other value afresh, and never remembers one that did not open", async () => {
    const open = opener({ "sealed-a": sessionFixture({ expiresAt: T0 + 3600 }) });
    const read = rememberOpenedSessions(open, { now: () => T0 * 1000 });
    await read("sealed-a");
    expect(await read("sealed-a-tampered")).toBeNull();
    expect(await read("sealed-a-tampered")).toBeNull();
    expect(open).toHaveBeenCalledTimes(3);
  });

  it("stops serving a session at its end, and opens the cookie again, which then refuses it", async () => {
    let now = T0 * 1000;
    const sessions: Record<string, Session> = { "sealed-a": sessionFixture({ expiresAt: T0 + 10 }) };
    const open = opener(sessions);
    const read = rememberOpenedSessions(open, { now: () => now });
    await read("sealed-a");
    now = (T0 + 10) * 1000;
    delete sessions["sealed-a"];
    expect(await read("sealed-a")).toBeNull();
    expect(open).toHaveBeenCalledTimes(2);
  });

  it("keeps at most maxEntries, dropping the least recently used", async () => {
    const session = sessionFixture({ expiresAt: T0 + 3600 });
    const open = opener({ a: session, b: session, c: session });
    const read = rememberOpenedSessions(open, { maxEntries: 2, now: () => T0 * 1000 });
    await read("a");
    await read("b");
    await read("a");
    await read("c");
    open.mockClear();
    await read("a");
    await read("c");
    expect(open).not.toHaveBeenCalled();
    await read("b");
    expect(open).toHaveBeenCalledOnce();
  });
});
