import type { SqliteDatabase } from "./database";
import { revocationKind, type RevocationStore } from "./revocation-store";

/** The embedded revocation list: survives restarts, serves one instance (or several sharing the file). */
export function createSqliteRevocationStore(db: SqliteDatabase, now: () => number = Date.now): RevocationStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS revocations (
      kind  TEXT NOT NULL CHECK (kind IN ('jti', 'sid')),
      value TEXT NOT NULL,
      until INTEGER NOT NULL,
      PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
  `);
  const purge = db.prepare<[number]>("DELETE FROM revocations WHERE until <= ?");
  const upsert = db.prepare<[string, string, number]>(
    `INSERT INTO revocations (kind, value, until) VALUES (?, ?, ?)
     ON CONFLICT (kind, value) DO UPDATE SET until = max(until, excluded.until)`,
  );
  const find = db.prepare<[number, string, string | null], { found: 1 }>(
    `SELECT 1 AS found FROM revocations
     WHERE until > ? AND ((kind = 'jti' AND value = ?) OR (kind = 'sid' AND value = ?)) LIMIT 1`,
  );
  const seconds = () => Math.floor(now() / 1000);

  return {
    async revoke(revocation) {
      const [kind, value] = revocationKind(revocation);
      db.transaction(() => {
        // Revocations are rare, so pruning expired entries here keeps the table small at no noticeable cost.
        purge.run(seconds());
        upsert.run(kind, value, revocation.until);
      })();
    },
    async isRevoked({ jti, sid }) {
      return find.get(seconds(), jti, sid ?? null) !== undefined;
    },
  };
}
