import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type SqliteDatabase } from "./database";
import { createRedisRevocationStore, type RedisCommands } from "./redis-revocation-store";
import type { RevocationStore } from "./revocation-store";
import { createSqliteRevocationStore } from "./sqlite-revocation-store";

/** Enough of Redis for the store: keys that vanish when their TTL runs out on the test's clock. */
function fakeRedis(now: () => number): RedisCommands {
  const expiries = new Map<string, number>();
  return {
    async set(key, _value, _mode, seconds) {
      expiries.set(key, now() + seconds * 1000);
      return "OK";
    },
    async exists(...keys) {
      return keys.filter((key) => (expiries.get(key) ?? 0) > now()).length;
    },
  };
}

const T0 = 1_700_000_000;
let clock = T0 * 1000;
const now = () => clock;

const implementations: [string, () => RevocationStore][] = [
  ["SQLite", () => createSqliteRevocationStore(openDatabase(":memory:"), now)],
  ["Redis", () => createRedisRevocationStore(fakeRedis(now), now)],
];

describe.each(implementations)("%s revocation store", (_, create) => {
  let store: RevocationStore;
  beforeEach(() => {
    clock = T0 * 1000;
    store = create();
  });

  it("knows nothing at first", async () => {
    expect(await store.isRevoked({ jti: "a", sid: "s" })).toBe(false);
  });

  it("revokes one token by jti and no other", async () => {
    await store.revoke({ jti: "a", until: T0 + 300 });
    expect(await store.isRevoked({ jti: "a" })).toBe(true);
    expect(await store.isRevoked({ jti: "a", sid: "s" })).toBe(true);
    expect(await store.isRevoked({ jti: "b", sid: "s" })).toBe(false);
  });

  it("revokes every token of a session by sid", async () => {
    await store.revoke({ sid: "s", until: T0 + 3600 });
    expect(await store.isRevoked({ jti: "a", sid: "s" })).toBe(true);
    expect(await store.isRevoked({ jti: "b", sid: "s" })).toBe(true);
    expect(await store.isRevoked({ jti: "a", sid: "other" })).toBe(false);
    expect(await store.isRevoked({ jti: "a" })).toBe(false);
  });

  it("does not confuse a jti with a sid of the same value", async () => {
    await store.revoke({ sid: "x", until: T0 + 60 });
    expect(await store.isRevoked({ jti: "x" })).toBe(false);
  });

  it("forgets an entry when its until passes", async () => {
    await store.revoke({ jti: "a", until: T0 + 300 });
    clock = (T0 + 299) * 1000;
    expect(await store.isRevoked({ jti: "a" })).toBe(true);
    clock = (T0 + 300) * 1000;
    expect(await store.isRevoked({ jti: "a" })).toBe(false);
  });

  it("ignores a revocation whose until has already passed", async () => {
    await store.revoke({ jti: "a", until: T0 - 1 });
    expect(await store.isRevoked({ jti: "a" })).toBe(false);
  });
});

describe("SQLite revocation store", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tessera-revocations-"));
    clock = T0 * 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("survives a restart", async () => {
    const file = path.join(dir, "api.sqlite");
    const first = openDatabase(file);
    await createSqliteRevocationStore(first, now).revoke({ sid: "s", until: T0 + 3600 });
    first.close();

    const second = openDatabase(file);
    expect(await createSqliteRevocationStore(second, now).isRevoked({ jti: "a", sid: "s" })).toBe(true);
    second.close();
  });

  it("prunes expired entries as new ones arrive, and extends rather than shortens an entry", async () => {
    const db: SqliteDatabase = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    await store.revoke({ jti: "old", until: T0 + 10 });
    await store.revoke({ sid: "s", until: T0 + 100 });
    await store.revoke({ sid: "s", until: T0 + 50 });
    clock = (T0 + 20) * 1000;
    await store.revoke({ jti: "new", until: T0 + 300 });
    expect(db.prepare("SELECT kind, value, until FROM revocations ORDER BY value").all()).toEqual([
      { kind: "jti", value: "new", until: T0 + 300 },
      { kind: "sid", value: "s", until: T0 + 100 },
    ]);
  });

  it("rejects, rather than answers false, when the database fails", async () => {
    const db = openDatabase(":memory:");
    const store = createSqliteRevocationStore(db, now);
    db.close();
    await expect(store.isRevoked({ jti: "a" })).rejects.toThrow();
    await expect(store.revoke({ jti: "a", until: T0 + 1 })).rejects.toThrow();
  });
});
