import { describe, expect, it } from "vitest";
import { hashPassword, parsePasswordHash, verifyPassword } from "./passwords";

describe("password hashing", () => {
  it("verifies the right password and rejects others", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain("correct horse");
    await expect(verifyPassword("correct horse", hash)).resolves.toBe(true);
    await expect(verifyPassword("correct horse ", hash)).resolves.toBe(false);
    await expect(verifyPassword("", hash)).resolves.toBe(false);
  });

  it("salts every hash differently", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
  });

  it("is deterministic for a given salt", async () => {
    const salt = Buffer.alloc(16, 7);
    expect(await hashPassword("pw", salt)).toBe(await hashPassword("pw", salt));
  });

  it("treats canonically equivalent Unicode spellings as the same password", async () => {
    const hash = await hashPassword("caf\u00e9");
    await expect(verifyPassword("cafe\u0301", hash)).resolves.toBe(true);
  });

  it.each([
    ["empty", ""],
    ["another scheme", "bcrypt$2b$10$abcdefghijklmnopqrstuv"],
    ["missing parts", "scrypt$32768$8$1$c2FsdHNhbHQ"],
    ["N not a power of two", "scrypt$30000$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5"],
    ["N too large", "scrypt$4194304$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5"],
    ["short salt", "scrypt$32768$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5"],
  ])("never verifies against a malformed hash (%s)", async (_label, encoded) => {
    expect(parsePasswordHash(encoded)).toBeUndefined();
    await expect(verifyPassword("anything", encoded)).resolves.toBe(false);
  });
});
