/**
 * The embedded list of ended sessions: a SQLite file that survives restarts and serves one instance (or
 * several processes on one machine sharing the file). Node runtime only.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { EndedSessions, OneTimeMessage } from "./ended-sessions";

/** Opens (creating its folder) the store's file, or a private in-memory database for `":memory:"`. */
export function openEndedSessionsFile(file: string): Database.Database {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL lets the readers on every request proceed while a sign-out writes.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  return db;
}

export function createSqliteEndedSessions(db: Database.Database, now: () => number = Date.now): EndedSessions {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ended_sessions (
      sid   TEXT PRIMARY KEY,
      until INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS seen_logout_tokens (
      jti   TEXT PRIMARY KEY,
      until INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
  const purges = ["ended_sessions", "seen_logout_tokens"].map((table) => db.prepare<[number]>(`DELETE FROM ${table} WHERE until <= ?`));
  const upsert = db.prepare<[string, number]>(
    "INSERT INTO ended_sessions (sid, until) VALUES (?, ?) ON CONFLICT (sid) DO UPDATE SET until = max(until, excluded.until)",
  );
  const claim = db.prepare<[string, number]>("INSERT INTO seen_logout_tokens (jti, until) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const find = db.prepare<[string, number], { found: 1 }>("SELECT 1 AS found FROM ended_sessions WHERE sid = ? AND until > ?");
  const seconds = () => Math.floor(now() / 1000);

  // Writes are rare (one per sign-out), so pruning on each keeps the file small at no noticeable cost.
  const end = db.transaction((sid: string, until: number) => {
    for (const purge of purges) purge.run(seconds());
    upsert.run(sid, until);
  });
  const endOnce = db.transaction((sid: string | undefined, until: number, message: OneTimeMessage): boolean => {
    for (const purge of purges) purge.run(seconds());
    if (claim.run(message.jti, message.until).changes === 0) return false;
    if (sid !== undefined) upsert.run(sid, until);
    return true;
  });

  return {
    async end(sid, until) {
      end(sid, until);
    },
    async endOnce(sid, until, message) {
      return endOnce(sid, until, message);
    },
    async isEnded(...keys) {
      const at = seconds();
      return keys.some((key) => find.get(key, at) !== undefined);
    },
  };
}
