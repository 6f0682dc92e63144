/**
 * The embedded list of ended sessions: a SQLite file that survives restarts, answered from memory. It serves
 * one web process, which owns the file while it runs (a second process on the same file refuses to start); several
 * instances share the list through REDIS_URL.
 * Node runtime only.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { EndedSessions, OneTimeMessage } from "./store";

/**
 * Opens (creating its folder) the store's file, or a private in-memory database for `":memory:"`.
 *
 * The process keeps the file to itself (exclusive locking mode, the write lock taken here), so the copy of the
 * list in memory is complete: nothing else can add to the file behind it. A second opener waits `busyTimeoutMs`
 * for the first to exit (a restart), then fails with a message that says what to do.
 */
export function openEndedSessionsFile(file: string, { busyTimeoutMs = 5000 }: { busyTimeoutMs?: number } = {}): Database.Database {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before WAL is entered, so the WAL index lives in this process's heap rather than in shared memory.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec("BEGIN IMMEDIATE; COMMIT");
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code !== "SQLITE_BUSY") throw error;
    throw new Error(
      `${file} is in use by another web process. The embedded list of ended sessions serves one process: stop the ` +
        "other one, give each instance its own DATA_DIR, or share the list through REDIS_URL",
      { cause: error },
    );
  }
  return db;
}

// A row written without `started_by` (in a file from before it, or by a version before it) ends every session
// under its key, as such rows always did.
const EVERY_START = Number.MAX_SAFE_INTEGER;

export function createSqliteEndedSessions(db: Database.Database, now: () => number = Date.now): EndedSessions {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ended_sessions (
      sid        TEXT PRIMARY KEY,
      until      INTEGER NOT NULL,
      started_by INTEGER NOT NULL DEFAULT ${EVERY_START}
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS seen_logout_tokens (
      jti   TEXT PRIMARY KEY,
      until INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
  const columns = db.pragma("table_info(ended_sessions)") as { name: string }[];
  if (!columns.some((column) => column.name === "started_by")) {
    db.exec(`ALTER TABLE ended_sessions ADD COLUMN started_by INTEGER NOT NULL DEFAULT ${EVERY_START}`);
  }
  const purges = ["ended_sessions", "seen_logout_tokens"].map((table) => db.prepare<[number]>(`DELETE FROM ${table} WHERE until <= ?`));
  const upsert = db.prepare<[string, number, number], Entry>(
    `INSERT INTO ended_sessions (sid, until, started_by) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET
       until = max(until, excluded.until), started_by = max(started_by, excluded.started_by)
     RETURNING until, started_by AS startedBy`,
  );
  const claim = db.prepare<[string, number]>("INSERT INTO seen_logout_tokens (jti, until) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const seconds = () => Math.floor(now() / 1000);

  // Every request asks, and sign-outs are rare: the list is answered from memory, filled from the file once.
  const ended = new Map<string, Entry>();
  for (const { key, ...entry } of db
    .prepare<[number], Entry & { key: string }>("SELECT sid AS key, until, started_by AS startedBy FROM ended_sessions WHERE until > ?")
    .all(seconds())) {
    ended.set(key, entry);
  }
  /** Called once the file holds the entry, so memory never lists what the file could lose. */
  const remember = (key: string, entry: Entry) => {
    for (const [listed, { until }] of ended) if (until <= seconds()) ended.delete(listed);
    ended.set(key, entry);
  };

  // Writes are rare (one per sign-out), so pruning on each keeps the file small at no noticeable cost.
  // Each write returns the entry as stored, merged with what was there, for the copy in memory.
  const end = db.transaction((key: string, until: number, startedBy: number): Entry => {
    for (const purge of purges) purge.run(seconds());
    return upsert.get(key, until, startedBy)!;
  });
  const endOnce = db.transaction((key: string | undefined, until: number, message: OneTimeMessage, startedBy: number) => {
    for (const purge of purges) purge.run(seconds());
    if (claim.run(message.jti, message.until).changes === 0) return { firstUse: false };
    return { firstUse: true, stored: key === undefined ? undefined : upsert.get(key, until, startedBy)! };
  });

  return {
    async end(key, until, startedBy = until) {
      remember(key, end(key, until, startedBy));
    },
    async endOnce(key, until, message, startedBy = until) {
      const { firstUse, stored } = endOnce(key, until, message, startedBy);
      if (key !== undefined && stored !== undefined) remember(key, stored);
      return firstUse;
    },
    async isEnded(startedAt, ...keys) {
      const at = seconds();
      return keys.some((key) => {
        const entry = ended.get(key);
        return entry !== undefined && entry.until > at && startedAt <= entry.startedBy;
      });
    },
  };
}

interface Entry {
  until: number;
  startedBy: number;
}
