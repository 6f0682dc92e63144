import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { DatabaseInUseError, openDatabase } from "./database";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-database-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("keeps the file to itself: a second opener is refused while the first has it, and let in once it closes", () => {
  const file = path.join(dir, "api", "notes.sqlite");
  const first = openDatabase(file);
  expect(first.pragma("locking_mode", { simple: true })).toBe("exclusive");
  expect(first.pragma("journal_mode", { simple: true })).toBe("wal");

  let refusal: unknown;
  try {
    openDatabase(file, { busyTimeoutMs: 50 });
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(DatabaseInUseError);
  expect((refusal as Error).message).toMatch(/in use by another API process.*REDIS_URL/);

  first.close();
  const second = openDatabase(file, { busyTimeoutMs: 50 });
  expect(second.prepare("SELECT 1 AS one").get()).toEqual({ one: 1 });
  second.close();
});

it("opens a private database in memory", () => {
  const db = openDatabase(":memory:");
  expect(db.prepare("SELECT 1 AS one").get()).toEqual({ one: 1 });
  db.close();
});
