import { randomUUID } from "node:crypto";
import type { SqliteDatabase } from "./database";

export interface Note {
  id: string;
  text: string;
  /** ISO 8601. */
  createdAt: string;
}

/** Each owner (a token's `sub`) sees and changes only their own notes. */
export interface NotesStore {
  /** Newest first. */
  list(owner: string): Note[];
  create(owner: string, text: string): Note;
  /** False when the note does not exist or belongs to someone else: callers cannot tell which. */
  delete(owner: string, id: string): boolean;
}

interface NoteRow {
  id: string;
  text: string;
  created_at: number;
}

const toNote = (row: NoteRow): Note => ({ id: row.id, text: row.text, createdAt: new Date(row.created_at).toISOString() });

export function createSqliteNotesStore(db: SqliteDatabase, now: () => number = Date.now): NotesStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS notes (
      id         TEXT PRIMARY KEY,
      owner      TEXT NOT NULL,
      text       TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS notes_by_owner ON notes (owner, created_at);
  `);
  // rowid breaks ties between notes created in the same millisecond.
  const list = db.prepare<[string], NoteRow>(
    "SELECT id, text, created_at FROM notes WHERE owner = ? ORDER BY created_at DESC, rowid DESC",
  );
  const insert = db.prepare<[string, string, string, number]>(
    "INSERT INTO notes (id, owner, text, created_at) VALUES (?, ?, ?, ?)",
  );
  const remove = db.prepare<[string, string]>("DELETE FROM notes WHERE id = ? AND owner = ?");

  return {
    list: (owner) => list.all(owner).map(toNote),
    create(owner, text) {
      const row: NoteRow = { id: randomUUID(), text, created_at: now() };
      insert.run(row.id, owner, row.text, row.created_at);
      return toNote(row);
    },
    delete: (owner, id) => remove.run(id, owner).changes > 0,
  };
}
