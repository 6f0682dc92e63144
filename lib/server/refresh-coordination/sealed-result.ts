/**
 * What refresh coordination stores in Redis, and under which names, so that Redis alone yields no token.
 *
 * Every name is a keyed hash of the refresh token (HMAC-SHA256 under the newest `AUTH_SECRET`): it says nothing
 * about the token, and nobody without the secret can work out which entry belongs to a token they hold. A
 * refreshed session is sealed with AES-256-GCM under a key derived from both the server secret and the old
 * refresh token, with its entry's name as additional data: opening it takes the secret and the refresh token
 * it replaced, which only the instances and the holder of the old cookie have, and an entry moved under another
 * name does not open. Node runtime only.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

export interface ResultKeys {
  /** The entry's name: base64url, 43 characters. */
  id: string;
  /** The 256-bit AES key for the entry's value. */
  key: Buffer;
}

const derive = (secret: string, purpose: string, refreshToken: string) => createHmac("sha256", secret).update(`tessera/${purpose}\0${refreshToken}`).digest();

export function resultKeys(secret: string, refreshToken: string): ResultKeys {
  return { id: derive(secret, "refresh-id", refreshToken).toString("base64url"), key: derive(secret, "refresh-result-key", refreshToken) };
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealResult({ id, key }: ResultKeys, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(id));
  const sealed = Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return sealed.toString("base64url");
}

/** The plaintext, or `null` when the value was not sealed under these keys (another secret, another entry). */
export function openResult({ id, key }: ResultKeys, sealed: string): string | null {
  const bytes = Buffer.from(sealed, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(id));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}
