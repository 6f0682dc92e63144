import { randomBytes, randomUUID } from "node:crypto";
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

/**
 * Key material of the IdP: signing keys (ES256 for access tokens, RS256 for ID tokens, which is what OpenID
 * Connect relying parties expect by default) and the keys that sign the provider's cookies.
 *
 * Generated on first start into `DATA_DIR/idp/` and reused afterwards, so tokens and browser sessions survive a
 * restart of the process. The files hold private keys: they are created with mode 0600 and are never committed.
 */

export const ACCESS_TOKEN_SIGNING_ALG = "ES256";
export const ID_TOKEN_SIGNING_ALG = "RS256";
const SIGNING_ALGS = [ACCESS_TOKEN_SIGNING_ALG, ID_TOKEN_SIGNING_ALG] as const;

const JWKS_FILE = "jwks.json";
const COOKIE_KEYS_FILE = "cookie-keys.json";

export interface IdpKeys {
  /** Private JWKs, each with `kid`, `alg` and `use: "sig"`. */
  jwks: { keys: JWK[] };
  /** Secrets for the provider's signed cookies, newest first. */
  cookieKeys: string[];
}

export async function loadOrCreateKeys(dir: string): Promise<IdpKeys> {
  // Only the key directory itself is private; DATA_DIR above it is shared with the other services.
  await mkdir(path.dirname(dir), { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await restrictPermissions(dir, 0o700);
  const jwksFile = path.join(dir, JWKS_FILE);
  const cookieKeysFile = path.join(dir, COOKIE_KEYS_FILE);

  const jwks = parseJwks(jwksFile, await readOrCreate(jwksFile, async () => JSON.stringify(await generateJwks())));
  const cookieKeys = parseCookieKeys(
    cookieKeysFile,
    await readOrCreate(cookieKeysFile, async () => JSON.stringify([randomBytes(32).toString("base64url")])),
  );
  return { jwks, cookieKeys };
}

export async function generateJwks(): Promise<{ keys: JWK[] }> {
  const keys = await Promise.all(SIGNING_ALGS.map(generateSigningJwk));
  return { keys };
}

async function generateSigningJwk(alg: (typeof SIGNING_ALGS)[number]): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
}

/**
 * Returns the file's contents, creating it first when missing. Creation goes through a private temporary file and
 * a hard link, which fails if the target appeared meanwhile: two processes starting at once (for instance the dev
 * runner and a test) end up sharing the first complete file instead of overwriting each other's keys.
 */
async function readOrCreate(file: string, create: () => Promise<string>): Promise<string> {
  const existing = await readIfExists(file);
  if (existing !== undefined) {
    await restrictPermissions(file, 0o600);
    return existing;
  }
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, await create(), { mode: 0o600, flag: "wx" });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary);
  }
  return readFile(file, "utf8");
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function restrictPermissions(target: string, mode: number): Promise<void> {
  if (process.platform === "win32") return;
  const current = (await stat(target)).mode;
  if ((current & 0o077) !== 0) await chmod(target, mode);
}

function unusable(file: string, reason: string): Error {
  return new Error(`${file} is not a usable key file (${reason}). Delete it to have new keys generated on start.`);
}

export function parseJwks(file: string, text: string): { keys: JWK[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unusable(file, "not valid JSON");
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw unusable(file, 'expected an object with a "keys" array');
  for (const alg of SIGNING_ALGS) {
    const key = keys.find((k: JWK) => k?.alg === alg);
    if (!key || key.use !== "sig" || typeof key.kid !== "string" || typeof key.d !== "string") {
      throw unusable(file, `missing a private ${alg} signing key with kid and use "sig"`);
    }
  }
  return { keys: keys as JWK[] };
}

export function parseCookieKeys(file: string, text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unusable(file, "not valid JSON");
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((k) => typeof k === "string" && k.length >= 32)) {
    throw unusable(file, "expected a non-empty array of secrets of at least 32 characters");
  }
  return parsed as string[];
}
