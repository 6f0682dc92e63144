import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parsePasswordHash } from "./passwords";
import { authenticate, findUserBySub, UNKNOWN_USER_HASH, USERS } from "./users";

describe("seeded users", () => {
  it.each([
    ["alice", "wonderland", "Alice Liddell", "alice@example.com"],
    ["bob", "builder", "Bob Builder", "bob@example.com"],
  ])("%s signs in with the documented password", async (username, password, name, email) => {
    const user = await authenticate(username, password);
    expect(user).toMatchObject({ username, name, email });
    expect(findUserBySub(user!.sub)).toBe(user);
  });

  it("gives alice a verified email address", async () => {
    expect((await authenticate("alice", "wonderland"))?.emailVerified).toBe(true);
  });

  it("uses stable opaque subject identifiers, not usernames", () => {
    const subs = USERS.map((user) => user.sub);
    expect(new Set(subs).size).toBe(USERS.length);
    for (const user of USERS) {
      expect(user.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(user.sub).not.toContain(user.username);
    }
  });

  it("matches usernames without regard to case or surrounding spaces", async () => {
    expect((await authenticate("  Alice ", "wonderland"))?.username).toBe("alice");
  });

  it.each([
    ["wrong password", "alice", "builder"],
    ["another user's password", "bob", "wonderland"],
    ["unknown user", "mallory", "wonderland"],
    ["empty credentials", "", ""],
    ["oversized password", "alice", `wonderland${"x".repeat(2000)}`],
  ])("refuses a %s", async (_label, username, password) => {
    await expect(authenticate(username, password)).resolves.toBeUndefined();
  });

  it("stores only salted hashes, never the plaintext passwords", async () => {
    const source = await readFile(new URL("./users.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/wonderland|builder"/);
    const salts = USERS.map((user) => parsePasswordHash(user.passwordHash)?.salt.toString("hex"));
    expect(salts.every(Boolean)).toBe(true);
    expect(new Set(salts).size).toBe(USERS.length);
  });

  it("checks unknown users against a hash of the same cost, so timing does not reveal who exists", () => {
    const dummy = parsePasswordHash(UNKNOWN_USER_HASH);
    expect(dummy).toBeDefined();
    for (const user of USERS) {
      const real = parsePasswordHash(user.passwordHash)!;
      expect({ N: dummy!.N, r: dummy!.r, p: dummy!.p, length: dummy!.key.length }).toEqual({
        N: real.N,
        r: real.r,
        p: real.p,
        length: real.key.length,
      });
    }
  });
});
