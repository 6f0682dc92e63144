import type { SqliteDatabase } from "../database";
import { RevocationIndex } from "./memory-index";
import type { OneTimeMessage, Revocation, RevocationStore } from "./store";

/**
 * The embedded revocation list: kept in the file, so it survives restarts, and answered from memory. The file is
 * this process's alone (see `openDatabase`), so the copy in memory is complete: it is loaded once, and every write
 * lands in both, the file first.
 */
export function createSqliteRevocationStore(db: SqliteDatabase, now: () => number = Date.now): RevocationStore {
  createTables(db);
  const purges = ["revocations", "subject_revocations", "seen_messages"].map((table) =>
    db.prepare<[number]>(`DELETE FROM ${table} WHERE until <= ?`),
  );
  // Each upsert returns the entry as stored, merged with what was there, for the copy in memory.
  const upsertToken = db.prepare<[string, number], Stored>(
    `INSERT INTO revocations (kind, value, until) VALUES ('jti', ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET until = max(until, excluded.until)
     RETURNING issued_up_to AS issuedUpTo, until`,
  );
  // An entry without a cut-off (see `createTables`) was revoked before this revocation, whose cut-off covers it.
  const upsertSession = db.prepare<[string, number, number], Stored>(
    `INSERT INTO revocations (kind, value, issued_up_to, until) VALUES ('sid', ?, ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET
       issued_up_to = max(coalesce(issued_up_to, 0), excluded.issued_up_to), until = max(until, excluded.until)
     RETURNING issued_up_to AS issuedUpTo, until`,
  );
  const upsertSubject = db.prepare<[string, number, number], Stored>(
    `INSERT INTO subject_revocations (sub, issued_up_to, until) VALUES (?, ?, ?)
     ON CONFLICT (sub) DO UPDATE SET issued_up_to = max(issued_up_to, excluded.issued_up_to), until = max(until, excluded.until)
     RETURNING issued_up_to AS issuedUpTo, until`,
  );
  const insertMessage = db.prepare<[string, number]>("INSERT INTO seen_messages (jti, until) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const seconds = () => Math.floor(now() / 1000);

  const index = new RevocationIndex();
  for (const { kind, value, issuedUpTo, until } of db
    .prepare<[number], Stored & { kind: "jti" | "sid"; value: string }>(
      "SELECT kind, value, issued_up_to AS issuedUpTo, until FROM revocations WHERE until > ?",
    )
    .all(seconds())) {
    if (kind === "jti") index.setToken(value, until);
    else index.setSession(value, issuedUpTo, until);
  }
  for (const { sub, issuedUpTo, until } of db
    .prepare<[number], Stored & { sub: string }>("SELECT sub, issued_up_to AS issuedUpTo, until FROM subject_revocations WHERE until > ?")
    .all(seconds())) {
    index.setSubject(sub, issuedUpTo, until);
  }

  function purgeExpired(): void {
    // Revocations are rare, so pruning expired entries on each one keeps the tables small at no noticeable cost.
    for (const purge of purges) purge.run(seconds());
  }

  function upsert(revocation: Revocation): Stored {
    // RETURNING always yields the row an upsert wrote.
    if ("sub" in revocation) return upsertSubject.get(revocation.sub, revocation.issuedUpTo, revocation.until)!;
    if ("sid" in revocation) return upsertSession.get(revocation.sid, revocation.issuedUpTo, revocation.until)!;
    return upsertToken.get(revocation.jti, revocation.until)!;
  }

  /** Called once the file holds the entry, so memory never knows a revocation the file could lose. */
  function remember(revocation: Revocation, { issuedUpTo, until }: Stored): void {
    index.prune(seconds());
    if ("sub" in revocation) index.setSubject(revocation.sub, issuedUpTo, until);
    else if ("sid" in revocation) index.setSession(revocation.sid, issuedUpTo, until);
    else index.setToken(revocation.jti, until);
  }

  const revoke = db.transaction((revocation: Revocation): Stored => {
    purgeExpired();
    return upsert(revocation);
  });
  // One transaction: if the revocation cannot be written, the message is not marked as seen either.
  const revokeOnce = db.transaction((revocation: Revocation, message: OneTimeMessage): Stored | undefined => {
    purgeExpired();
    if (insertMessage.run(message.jti, message.until).changes === 0) return undefined;
    return upsert(revocation);
  });

  return {
    async revoke(revocation) {
      remember(revocation, revoke(revocation));
    },
    async revokeOnce(revocation, message) {
      const stored = revokeOnce(revocation, message);
      if (stored === undefined) return false;
      remember(revocation, stored);
      return true;
    },
    isRevoked(token) {
      return index.covers(token, seconds());
    },
  };
}

interface Stored {
  issuedUpTo: number | null;
  until: number;
}

function createTables(db: SqliteDatabase): void {
  db.transaction(() => {
    // Subjects and seen messages have tables of their own, so files written before they existed need no migration.
    db.exec(`
      CREATE TABLE IF NOT EXISTS revocations (
        kind         TEXT NOT NULL CHECK (kind IN ('jti', 'sid')),
        value        TEXT NOT NULL,
        until        INTEGER NOT NULL,
        issued_up_to INTEGER,
        PRIMARY KEY (kind, value)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS subject_revocations (
        sub          TEXT PRIMARY KEY,
        issued_up_to INTEGER NOT NULL,
        until        INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS seen_messages (
        jti   TEXT PRIMARY KEY,
        until INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
    // Files from before session cut-offs lack the column. Their session entries have no cut-off: they cover every
    // token of the session until they expire, as they did, or until a new revocation of the session gives them one.
    const columns = db.pragma("table_info(revocations)") as { name: string }[];
    if (!columns.some(({ name }) => name === "issued_up_to")) db.exec("ALTER TABLE revocations ADD COLUMN issued_up_to INTEGER");
  })();
}
