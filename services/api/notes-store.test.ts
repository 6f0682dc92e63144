import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "./database";
import { createSqliteNotesStore, type NotesStore } from "./notes-store";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("SQLite notes store", () => {
  let clock: number;
  let store: NotesStore;
  beforeEach(() => {
    clock = Date.parse("2030-01-01T00:00:00.000Z");
    store = createSqliteNotesStore(openDatabase(":memory:"), () => clock);
  });

  it("creates notes with random UUIDs and an ISO creation time", () => {
    const a = store.create("alice", "first");
    const b = store.create("alice", "second");
    expect(a).toEqual({ id: expect.stringMatching(UUID), text: "first", createdAt: "2030-01-01T00:00:00.000Z" });
    expect(b.id).not.toBe(a.id);
  });

  it("lists an owner's notes newest first, including those of the same millisecond", () => {
    store.create("alice", "one");
    clock += 1000;
    store.create("alice", "two");
    store.create("alice", "three");
    expect(store.list("alice").map((note) => note.text)).toEqual(["three", "two", "one"]);
  });

  it("keeps owners apart", () => {
    const alices = store.create("alice", "alice's");
    store.create("bob", "bob's");
    expect(store.list("alice")).toEqual([alices]);
    expect(store.list("bob").map((note) => note.text)).toEqual(["bob's"]);
    expect(store.list("carol")).toEqual([]);
  });

  it("deletes only the owner's note", () => {
    const note = store.create("alice", "mine");
    expect(store.delete("bob", note.id)).toBe(false);
    expect(store.list("alice")).toHaveLength(1);
    expect(store.delete("alice", note.id)).toBe(true);
    expect(store.delete("alice", note.id)).toBe(false);
    expect(store.list("alice")).toEqual([]);
  });

  it("stores text verbatim, quotes and SQL included", () => {
    const text = `Robert'); DROP TABLE notes;-- "quoted" ✓`;
    store.create("alice", text);
    expect(store.list("alice")[0]?.text).toBe(text);
  });
});

describe("file-backed notes store", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tessera-notes-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the folder, uses WAL and keeps notes across a re-open", () => {
    const file = path.join(dir, "nested", "api", "notes.sqlite");
    const first = openDatabase(file);
    expect(first.pragma("journal_mode", { simple: true })).toBe("wal");
    const note = createSqliteNotesStore(first).create("alice", "persisted");
    first.close();

    const second = openDatabase(file);
    expect(createSqliteNotesStore(second).list("alice")).toEqual([note]);
    second.close();
  });
});
