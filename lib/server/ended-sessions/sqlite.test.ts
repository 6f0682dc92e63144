import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteEndedSessions, openEndedSessionsFile } from "./sqlite";
import { describeEndedSessionsContract } from "@/lib/testing/ended-sessions-contract";

describeEndedSessionsContract("SQLite", () => createSqliteEndedSessions(openEndedSessionsFile(":memory:")));

const T = 1_900_000_000;

/** A store on an in-memory database and a clock the test moves. */
function storeAt(start = T) {
  let seconds = start;
  const db = openEndedSessionsFile(":memory:");
  const store = createSqliteEndedSessions(db, () => seconds * 1000);
  return { db, store, setTime: (to: number) => void (seconds = to) };
}

describe("SQLite store of ended sessions over time", () => {
  it("forgets a session once its until has passed", async () => {
    const { store, setTime } = storeAt();
    await store.end("s", T + 10);
    setTime(T + 9);
    expect(await store.isEnded(0, "s")).toBe(true);
    setTime(T + 10);
    expect(await store.isEnded(0, "s")).toBe(false);
  });

  it("extends an entry, never shortens it", async () => {
    const { store, setTime } = storeAt();
    await store.end("s", T + 300);
    await store.end("s", T + 100);
    setTime(T + 200);
    expect(await store.isEnded(0, "s")).toBe(true);
    await store.end("s", T + 400);
    setTime(T + 350);
    expect(await store.isEnded(0, "s")).toBe(true);
  });

  it("accepts a message again once its until has passed, since its verifier would refuse it anyway", async () => {
    const { store, setTime } = storeAt();
    expect(await store.endOnce("s", T + 300, { jti: "j", until: T + 60 })).toBe(true);
    setTime(T + 60);
    expect(await store.endOnce("s", T + 300, { jti: "j", until: T + 120 })).toBe(true);
  });

  it("prunes expired rows on the next write", async () => {
    const { db, store, setTime } = storeAt();
    await store.end("old", T + 10);
    await store.endOnce("old", T + 10, { jti: "old-message", until: T + 10 });
    setTime(T + 11);
    await store.end("new", T + 100);
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(count("ended_sessions")).toBe(1);
    expect(count("seen_logout_tokens")).toBe(0);
  });

  it("reads a file from before sessions recorded their start: its entries end every session under their key", async () => {
    const db = openEndedSessionsFile(":memory:");
    db.exec("CREATE TABLE ended_sessions (sid TEXT PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID");
    db.prepare("INSERT INTO ended_sessions (sid, until) VALUES (?, ?)").run("s", T + 300);
    const store = createSqliteEndedSessions(db, () => T * 1000);
    expect(await store.isEnded(0, "s")).toBe(true);
    expect(await store.isEnded(T, "s")).toBe(true);
    await store.end("s", T + 300, T - 60);
    expect(await store.isEnded(T, "s")).toBe(true);
  });

  it("accepts a row written without a start, as an older version writes it, and reads it as ending every session under its key", async () => {
    const { db } = storeAt();
    db.prepare("INSERT INTO ended_sessions (sid, until) VALUES (?, ?)").run("s", T + 300);
    expect(await createSqliteEndedSessions(db, () => T * 1000).isEnded(T, "s")).toBe(true);
  });

  it("records neither message nor session when the write fails", async () => {
    const { db, store } = storeAt();
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON ended_sessions BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(store.endOnce("s", T + 300, { jti: "j", until: T + 60 })).rejects.toThrow("disk full");
    db.exec("DROP TRIGGER refuse");
    expect(await store.endOnce("s", T + 300, { jti: "j", until: T + 60 })).toBe(true);
  });
});

describe("openEndedSessionsFile", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("creates the folder, and what one process records, the next one reads", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tessera-ended-"));
    const file = path.join(dir, "web", "ended-sessions.sqlite");
    const until = Math.floor(Date.now() / 1000) + 300;

    const first = openEndedSessionsFile(file);
    await createSqliteEndedSessions(first).end("s", until);
    first.close();

    const second = openEndedSessionsFile(file);
    expect(await createSqliteEndedSessions(second).isEnded(0, "s")).toBe(true);
    second.close();
  });

  it("keeps the file to its process: a second opener is refused, and says what to do, until the first closes", () => {
    dir = mkdtempSync(path.join(tmpdir(), "tessera-ended-"));
    const file = path.join(dir, "web", "ended-sessions.sqlite");
    const first = openEndedSessionsFile(file);
    expect(() => openEndedSessionsFile(file, { busyTimeoutMs: 50 })).toThrow(/in use by another web process.*REDIS_URL/);
    first.close();
    openEndedSessionsFile(file, { busyTimeoutMs: 50 }).close();
  });
});

describe("the list in memory", () => {
  it("answers from memory: a check reads nothing from the file", async () => {
    const db = openEndedSessionsFile(":memory:");
    const store = createSqliteEndedSessions(db);
    await store.end("s", Math.floor(Date.now() / 1000) + 300);
    // Were the check a query, it would see the row gone.
    db.exec("DELETE FROM ended_sessions");
    expect(await store.isEnded(0, "s")).toBe(true);
  });

  it("does not list a session whose write failed", async () => {
    const db = openEndedSessionsFile(":memory:");
    const store = createSqliteEndedSessions(db);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON ended_sessions BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(store.end("s", Math.floor(Date.now() / 1000) + 300)).rejects.toThrow("disk full");
    expect(await store.isEnded(0, "s")).toBe(false);
  });
});
