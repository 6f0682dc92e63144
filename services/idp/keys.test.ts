import { chmod, mkdtemp, readdir, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { importJWK, jwtVerify, SignJWT, type JWK } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateKeys } from "./keys";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tessera-keys-test-"));
  dir = path.join(root, "nested", "idp");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const posixOnly = process.platform === "win32" ? it.skip : it;

describe("loadOrCreateKeys", () => {
  it("generates ES256 and RS256 signing keys with kid, alg and use", async () => {
    const { jwks, cookieKeys } = await loadOrCreateKeys(dir);
    expect(jwks.keys.map((key) => key.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ use: "sig", kid: expect.any(String), d: expect.any(String) });
    }
    expect(new Set(jwks.keys.map((key) => key.kid)).size).toBe(2);
    expect(cookieKeys).toHaveLength(1);
    expect(cookieKeys[0]!.length).toBeGreaterThanOrEqual(32);
  });

  it("produces keys that actually sign and verify", async () => {
    const { jwks } = await loadOrCreateKeys(dir);
    for (const jwk of jwks.keys) {
      const privateKey = await importJWK(jwk);
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk as JWK & Record<string, unknown>;
      const token = await new SignJWT({ ok: true }).setProtectedHeader({ alg: jwk.alg! }).sign(privateKey);
      const { payload } = await jwtVerify(token, await importJWK(publicJwk as JWK, jwk.alg));
      expect(payload.ok).toBe(true);
    }
  });

  it("reuses the stored keys on the next start", async () => {
    const first = await loadOrCreateKeys(dir);
    const second = await loadOrCreateKeys(dir);
    expect(second).toEqual(first);
  });

  posixOnly("stores them readable by the owner only", async () => {
    await loadOrCreateKeys(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(dir)) {
      expect((await stat(path.join(dir, file))).mode & 0o777).toBe(0o600);
    }
  });

  posixOnly("tightens the permissions of an existing key file", async () => {
    await loadOrCreateKeys(dir);
    await chmod(path.join(dir, "jwks.json"), 0o644);
    await loadOrCreateKeys(dir);
    expect((await stat(path.join(dir, "jwks.json"))).mode & 0o777).toBe(0o600);
  });

  it("lets processes starting at the same time agree on one set of keys", async () => {
    const results = await Promise.all([loadOrCreateKeys(dir), loadOrCreateKeys(dir), loadOrCreateKeys(dir)]);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect((await readdir(dir)).sort()).toEqual(["cookie-keys.json", "jwks.json"]);
  });

  it("recreates only what is missing", async () => {
    const first = await loadOrCreateKeys(dir);
    await unlink(path.join(dir, "cookie-keys.json"));
    const second = await loadOrCreateKeys(dir);
    expect(second.jwks).toEqual(first.jwks);
    expect(second.cookieKeys).not.toEqual(first.cookieKeys);
  });

  it.each([
    ["not JSON", "{"],
    ["no keys array", "{}"],
    ["a public key only", JSON.stringify({ keys: [{ kty: "EC", alg: "ES256", use: "sig", kid: "a" }] })],
  ])("refuses a damaged key file (%s) with a message naming it", async (_label, contents) => {
    await loadOrCreateKeys(dir);
    const file = path.join(dir, "jwks.json");
    await writeFile(file, contents);
    await expect(loadOrCreateKeys(dir)).rejects.toThrow(file);
  });
});
