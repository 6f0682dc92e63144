import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

/** Another process holds the file: the embedded store serves one API process. */
export class DatabaseInUseError extends Error {
  override readonly name = "DatabaseInUseError";
  readonly code = "database_in_use";
  constructor(file: string, options: ErrorOptions) {
    super(
      `${file} is in use by another API process. The embedded store serves one process: stop the other one, give ` +
        "each instance its own DATA_DIR, or share the revocation list through REDIS_URL",
      options,
    );
  }
}

/**
 * Opens the API's SQLite file (creating its folder), or a private in-memory database for `":memory:"`.
 *
 * The process owns the file for as long as it runs (exclusive locking mode, the write lock taken here): the
 * revocation list is then served from memory with nothing another process could have changed behind it, and reads
 * skip the file locks they would otherwise take. A second opener waits `busyTimeoutMs` for the first to exit (a
 * restart), then fails with `DatabaseInUseError`.
 */
export function openDatabase(file: string, { busyTimeoutMs = 5000 }: { busyTimeoutMs?: number } = {}): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before WAL is entered, so the WAL index lives in this process's heap rather than in shared memory.
    db.pragma("locking_mode = EXCLUSIVE");
    // WAL lets a write proceed without blocking on readers; NORMAL sync is durable enough with WAL.
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec("BEGIN IMMEDIATE; COMMIT");
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code === "SQLITE_BUSY") throw new DatabaseInUseError(file, { cause: error });
    throw error;
  }
  return db;
}
