/**
 * The embedded list of ended sessions: a SQLite file that survives restarts, answered from memory. It serves
 * one web process, which owns the file while it runs; several instances share the list through REDIS_URL.
 * Node runtime only.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { EndedSessions, OneTimeMessage } from "./ended-sessions";

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
  const upsert = db.prepare<[string, number], { until: number }>(
    `INSERT INTO ended_sessions (sid, until) VALUES (?, ?) ON CONFLICT (sid) DO UPDATE SET until = max(until, excluded.until)
     RETURNING until`,
  );
  const claim = db.prepare<[string, number]>("INSERT INTO seen_logout_tokens (jti, until) VALUES (?, ?) ON CONFLICT DO NOTHING");
  const seconds = () => Math.floor(now() / 1000);

  // Every request asks, and sign-outs are rare: the list is answered from memory, filled from the file once.
  const ended = new Map<string, number>();
  for (const { sid, until } of db.prepare<[number], { sid: string; until: number }>("SELECT sid, until FROM ended_sessions WHERE until > ?").all(seconds())) {
    ended.set(sid, until);
  }
  /** Called once the file holds the entry, so memory never lists what the file could lose. */
  const remember = (sid: string, until: number) => {
    for (const [key, entryUntil] of ended) if (entryUntil <= seconds()) ended.delete(key);
    ended.set(sid, until);
  };

  // Writes are rare (one per sign-out), so pruning on each keeps the file small at no noticeable cost.
  // Each write returns the entry as stored, merged with what was there, for the copy in memory.
  const end = db.transaction((sid: string, until: number): number => {
    for (const purge of purges) purge.run(seconds());
    return upsert.get(sid, until)!.until;
  });
  const endOnce = db.transaction((sid: string | undefined, until: number, message: OneTimeMessage) => {
    for (const purge of purges) purge.run(seconds());
    if (claim.run(message.jti, message.until).changes === 0) return { firstUse: false };
    return { firstUse: true, stored: sid === undefined ? undefined : upsert.get(sid, until)!.until };
  });

  return {
    async end(sid, until) {
      remember(sid, end(sid, until));
    },
    async endOnce(sid, until, message) {
      const { firstUse, stored } = endOnce(sid, until, message);
      if (sid !== undefined && stored !== undefined) remember(sid, stored);
      return firstUse;
    },
    async isEnded(...keys) {
      const at = seconds();
      return keys.some((key) => (ended.get(key) ?? 0) > at);
    },
  };
}

export const REOPEN_INTERVAL_MS = 10_000;

/**
 * The store on `file`, opened on first use. While another process holds the file, every call fails (its callers
 * report it) and the file is tried again every REOPEN_INTERVAL_MS without waiting on it: only the first attempt
 * waits `busyTimeoutMs`, for a restart.
 */
export function reopeningSqliteStore(file: string, { busyTimeoutMs = 5000, now = Date.now }: { busyTimeoutMs?: number; now?: () => number } = {}): EndedSessions {
  let store: EndedSessions | undefined;
  let failure: unknown;
  let retryAt: number | undefined;
  const current = (): EndedSessions => {
    if (store) return store;
    if (retryAt === undefined || now() >= retryAt) {
      try {
        store = createSqliteEndedSessions(openEndedSessionsFile(file, { busyTimeoutMs: retryAt === undefined ? busyTimeoutMs : 0 }));
        return store;
      } catch (error) {
        failure = error;
        retryAt = now() + REOPEN_INTERVAL_MS;
      }
    }
    throw failure;
  };
  return {
    end: async (sid, until) => current().end(sid, until),
    endOnce: async (sid, until, message) => current().endOnce(sid, until, message),
    isEnded: async (...keys) => current().isEnded(...keys),
  };
}
