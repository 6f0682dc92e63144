import type { SqliteDatabase } from "./database";
import type { OneTimeMessage, Revocation, RevocationStore } from "./revocation-store";

/** The embedded revocation list: survives restarts, serves one instance (or several sharing the file). */
export function createSqliteRevocationStore(db: SqliteDatabase, now: () => number = Date.now): RevocationStore {
  createTables(db);
  const purges = ["revocations", "subject_revocations", "seen_messages"].map((table) =>
    db.prepare<[number]>(`DELETE FROM ${table} WHERE until <= ?`),
  );
  const upsertToken = db.prepare<[string, number]>(
    `INSERT INTO revocations (kind, value, until) VALUES ('jti', ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET until = max(until, excluded.until)`,
  );
  // An entry without a cut-off (see `createTables`) was revoked before this revocation, whose cut-off covers it.
  const upsertSession = db.prepare<[string, number, number]>(
    `INSERT INTO revocations (kind, value, issued_up_to, until) VALUES ('sid', ?, ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET
       issued_up_to = max(coalesce(issued_up_to, 0), excluded.issued_up_to), until = max(until, excluded.until)`,
  );
  const upsertSubject = db.prepare<[string, number, number]>(
    `INSERT INTO subject_revocations (sub, issued_up_to, until) VALUES (?, ?, ?)
     ON CONFLICT (sub) DO UPDATE SET issued_up_to = max(issued_up_to, excluded.issued_up_to), until = max(until, excluded.until)`,
  );
  const insertMessage = db.prepare<[string, number]>("INSERT INTO seen_messages (jti, until) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const find = db.prepare<[{ now: number; jti: string; sid: string | null; sub: string; iat: number }], { revoked: 0 | 1 }>(
    `SELECT EXISTS (SELECT 1 FROM revocations
                    WHERE until > @now AND ((kind = 'jti' AND value = @jti)
                                         OR (kind = 'sid' AND value = @sid AND (issued_up_to IS NULL OR issued_up_to >= @iat))))
         OR EXISTS (SELECT 1 FROM subject_revocations
                    WHERE sub = @sub AND until > @now AND issued_up_to >= @iat) AS revoked`,
  );
  const seconds = () => Math.floor(now() / 1000);

  function purgeExpired(): void {
    // Revocations are rare, so pruning expired entries on each one keeps the tables small at no noticeable cost.
    for (const purge of purges) purge.run(seconds());
  }

  function upsert(revocation: Revocation): void {
    if ("sub" in revocation) upsertSubject.run(revocation.sub, revocation.issuedUpTo, revocation.until);
    else if ("sid" in revocation) upsertSession.run(revocation.sid, revocation.issuedUpTo, revocation.until);
    else upsertToken.run(revocation.jti, revocation.until);
  }

  const revoke = db.transaction((revocation: Revocation) => {
    purgeExpired();
    upsert(revocation);
  });
  // One transaction: if the revocation cannot be written, the message is not marked as seen either.
  const revokeOnce = db.transaction((revocation: Revocation, message: OneTimeMessage): boolean => {
    purgeExpired();
    if (insertMessage.run(message.jti, message.until).changes === 0) return false;
    upsert(revocation);
    return true;
  });

  return {
    async revoke(revocation) {
      revoke(revocation);
    },
    async revokeOnce(revocation, message) {
      return revokeOnce(revocation, message);
    },
    async isRevoked({ jti, sid, sub, iat }) {
      return find.get({ now: seconds(), jti, sid: sid ?? null, sub, iat })?.revoked === 1;
    },
  };
}

function createTables(db: SqliteDatabase): void {
  // Immediate, so that instances opening the same file at once cannot both try to add the column.
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
    // Files from before session cut-offs lack the column. Their session entries (and any an older instance sharing
    // the file still writes) have no cut-off: they cover every token of the session until they expire, as they did,
    // or until a new revocation of the session gives them one.
    const columns = db.pragma("table_info(revocations)") as { name: string }[];
    if (!columns.some(({ name }) => name === "issued_up_to")) db.exec("ALTER TABLE revocations ADD COLUMN issued_up_to INTEGER");
  }).immediate();
}
