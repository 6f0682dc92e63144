import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type SqliteDatabase } from "../database";
import { createSqliteRevocationStore } from "./sqlite";
import { describeRevocationStoreContract } from "../testing/revocation-store-contract";

describeRevocationStoreContract("SQLite", () => createSqliteRevocationStore(openDatabase(":memory:")));

const T0 = 1_700_000_000;
let clock = T0 * 1000;
const now = () => clock;

describe("SQLite revocation store", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tessera-revocations-"));
    clock = T0 * 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("survives a restart", async () => {
    const file = path.join(dir, "api.sqlite");
    const first = openDatabase(file);
    const before = createSqliteRevocationStore(first, now);
    await before.revoke({ sid: "s", issuedUpTo: T0, until: T0 + 3600 });
    await before.revoke({ sub: "bob", issuedUpTo: T0, until: T0 + 3600 });
    await before.revokeOnce({ jti: "j", until: T0 + 300 }, { jti: "logout-1", until: T0 + 300 });
    first.close();

    const second = openDatabase(file);
    const after = createSqliteRevocationStore(second, now);
    expect(await after.isRevoked({ jti: "a", sid: "s", sub: "alice", iat: T0 })).toBe(true);
    expect(await after.isRevoked({ jti: "a", sid: "s", sub: "alice", iat: T0 + 1 })).toBe(false);
    expect(await after.isRevoked({ jti: "a", sub: "bob", iat: T0 })).toBe(true);
    expect(await after.isRevoked({ jti: "j", sub: "carol", iat: T0 })).toBe(true);
    expect(await after.revokeOnce({ jti: "k", until: T0 + 300 }, { jti: "logout-1", until: T0 + 300 })).toBe(false);
    second.close();
  });

  it("forgets an entry when its until passes", async () => {
    const store = createSqliteRevocationStore(openDatabase(":memory:"), now);
    await store.revoke({ jti: "a", until: T0 + 300 });
    await store.revoke({ sub: "alice", issuedUpTo: T0, until: T0 + 300 });
    const token = { jti: "a", sub: "alice", iat: T0 };
    clock = (T0 + 299) * 1000;
    expect(await store.isRevoked(token)).toBe(true);
    expect(await store.isRevoked({ ...token, jti: "b" })).toBe(true);
    clock = (T0 + 300) * 1000;
    expect(await store.isRevoked(token)).toBe(false);
  });

  it("accepts a message again once its until has passed", async () => {
    const store = createSqliteRevocationStore(openDatabase(":memory:"), now);
    const message = { jti: "logout-1", until: T0 + 300 };
    expect(await store.revokeOnce({ sid: "s", issuedUpTo: T0, until: T0 + 3600 }, message)).toBe(true);
    clock = (T0 + 299) * 1000;
    expect(await store.revokeOnce({ sid: "s", issuedUpTo: T0, until: T0 + 3600 }, message)).toBe(false);
    clock = (T0 + 300) * 1000;
    expect(await store.revokeOnce({ sid: "s", issuedUpTo: T0, until: T0 + 3600 }, message)).toBe(true);
  });

  it("prunes expired entries as new ones arrive, and extends rather than shortens an entry", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    await store.revoke({ jti: "old", until: T0 + 10 });
    await store.revoke({ sub: "gone", issuedUpTo: T0, until: T0 + 10 });
    await store.revokeOnce({ sid: "s", issuedUpTo: T0, until: T0 + 100 }, { jti: "logout-old", until: T0 + 10 });
    await store.revoke({ sid: "s", issuedUpTo: T0 - 5, until: T0 + 50 });
    await store.revoke({ sub: "alice", issuedUpTo: T0, until: T0 + 100 });
    await store.revoke({ sub: "alice", issuedUpTo: T0 - 5, until: T0 + 50 });
    clock = (T0 + 20) * 1000;
    await store.revoke({ jti: "new", until: T0 + 300 });
    expect(db.prepare("SELECT kind, value, issued_up_to AS issuedUpTo, until FROM revocations ORDER BY value").all()).toEqual([
      { kind: "jti", value: "new", issuedUpTo: null, until: T0 + 300 },
      { kind: "sid", value: "s", issuedUpTo: T0, until: T0 + 100 },
    ]);
    expect(db.prepare("SELECT sub, issued_up_to AS issuedUpTo, until FROM subject_revocations").all()).toEqual([
      { sub: "alice", issuedUpTo: T0, until: T0 + 100 },
    ]);
    expect(db.prepare("SELECT * FROM seen_messages").all()).toEqual([]);
  });

  describe("opening a file written before sessions had cut-offs", () => {
    // The shape of the table then, and the statement that wrote a session's revocation.
    const LEGACY_TABLE = `CREATE TABLE revocations (
      kind  TEXT NOT NULL CHECK (kind IN ('jti', 'sid')),
      value TEXT NOT NULL,
      until INTEGER NOT NULL,
      PRIMARY KEY (kind, value)
    ) WITHOUT ROWID`;
    const writeLegacySession = (db: SqliteDatabase, sid: string, until: number) =>
      db.prepare("INSERT INTO revocations (kind, value, until) VALUES ('sid', ?, ?)").run(sid, until);

    function legacyFile(): string {
      const file = path.join(dir, "api.sqlite");
      const db = openDatabase(file);
      db.exec(LEGACY_TABLE);
      writeLegacySession(db, "old", T0 + 3600);
      db.prepare("INSERT INTO revocations (kind, value, until) VALUES ('jti', 'j', ?)").run(T0 + 300);
      db.close();
      return file;
    }

    it("adds the cut-off column, once, and keeps every entry", async () => {
      const file = legacyFile();
      const first = openDatabase(file);
      createSqliteRevocationStore(first, now);
      first.close();
      const db = openDatabase(file);
      const store = createSqliteRevocationStore(db, now);
      const columns = (db.pragma("table_info(revocations)") as { name: string }[]).map(({ name }) => name);
      expect(columns).toEqual(["kind", "value", "until", "issued_up_to"]);
      expect(await store.isRevoked({ jti: "j", sub: "alice", iat: T0 })).toBe(true);
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 })).toBe(true);

      await store.revoke({ sid: "new", issuedUpTo: T0, until: T0 + 3600 });
      expect(await store.isRevoked({ jti: "a", sid: "new", sub: "alice", iat: T0 })).toBe(true);
      expect(await store.isRevoked({ jti: "a", sid: "new", sub: "alice", iat: T0 + 1 })).toBe(false);
    });

    it("keeps an entry without a cut-off covering every token of its session, as it did, until it expires", async () => {
      const db = openDatabase(legacyFile());
      const store = createSqliteRevocationStore(db, now);
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 + 600 })).toBe(true);
      clock = (T0 + 3600) * 1000;
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 + 600 })).toBe(false);
    });

    it("gives such an entry the cut-off of a new revocation of its session", async () => {
      const db = openDatabase(legacyFile());
      const store = createSqliteRevocationStore(db, now);
      await store.revoke({ sid: "old", issuedUpTo: T0, until: T0 + 1800 });
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 })).toBe(true);
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 + 1 })).toBe(false);
      clock = (T0 + 3599) * 1000;
      expect(await store.isRevoked({ jti: "a", sid: "old", sub: "alice", iat: T0 })).toBe(true);
    });
  });

  it("records neither the message nor the revocation when writing the revocation fails", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON subject_revocations BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const message = { jti: "logout-1", until: T0 + 300 };
    await expect(store.revokeOnce({ sub: "alice", issuedUpTo: T0, until: T0 + 3600 }, message)).rejects.toThrow("disk full");
    expect(db.prepare("SELECT * FROM seen_messages").all()).toEqual([]);

    db.exec("DROP TRIGGER refuse");
    expect(await store.revokeOnce({ sub: "alice", issuedUpTo: T0, until: T0 + 3600 }, message)).toBe(true);
    expect(await store.isRevoked({ jti: "a", sub: "alice", iat: T0 })).toBe(true);
  });

  it("refuses writes when the database fails, and keeps answering from memory what the file holds", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    await store.revoke({ jti: "a", until: T0 + 10 });
    db.close();
    await expect(store.revoke({ jti: "b", until: T0 + 1 })).rejects.toThrow();
    await expect(store.revokeOnce({ jti: "b", until: T0 + 1 }, { jti: "m", until: T0 + 1 })).rejects.toThrow();
    expect(await store.isRevoked({ jti: "a", sub: "alice", iat: T0 })).toBe(true);
    expect(await store.isRevoked({ jti: "b", sub: "alice", iat: T0 })).toBe(false);
  });

  it("does not remember a revocation whose write failed", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON revocations BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(store.revoke({ sid: "s", issuedUpTo: T0, until: T0 + 3600 })).rejects.toThrow("disk full");
    expect(await store.isRevoked({ jti: "a", sid: "s", sub: "alice", iat: T0 })).toBe(false);
  });

  it("answers from memory: a check reads nothing from the file", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    await store.revoke({ sid: "s", issuedUpTo: T0, until: T0 + 3600 });
    // Were the check a query, it would see the row gone.
    db.exec("DELETE FROM revocations");
    expect(await store.isRevoked({ jti: "a", sid: "s", sub: "alice", iat: T0 })).toBe(true);
  });
});
