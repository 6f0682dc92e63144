/**
 * Seals and opens the session payload: a compact JWE (`dir`, `A256GCM`) keyed by `AUTH_SECRET`.
 *
 * Keys are derived with HKDF once per secret and cached, so opening a cookie costs one AES-GCM
 * decryption and no key derivation. Each key has a derived, non-secret `kid` in the protected header:
 * with several secrets (newest first, for rotation) the right key is picked without trial decryption.
 * Edge-safe: Web Crypto and `jose` only.
 */
import { CompactEncrypt, compactDecrypt, base64url } from "jose";

export interface SessionCodec {
  /** Seals `payload`, stamping `exp`; `expiresAt` is in seconds since the epoch. */
  seal(payload: Record<string, unknown>, expiresAt: number): Promise<string>;
  /** The payload, or `null` when the token is malformed, tampered with, sealed with an unknown secret, or expired. */
  open(token: string): Promise<Record<string, unknown> | null>;
}

interface DerivedKey {
  kid: string;
  key: CryptoKey;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A session cookie is a few kilobytes; anything far larger is refused before any crypto. */
const MAX_TOKEN_LENGTH = 16 * 1024;

async function deriveKey(secret: string, salt: string): Promise<DerivedKey> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
  const derive = (info: string, bits: number) =>
    crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) }, ikm, bits);
  const [keyBits, kidBits] = await Promise.all([derive("tessera session encryption key", 256), derive("tessera session key id", 64)]);
  const key = await crypto.subtle.importKey("raw", keyBits, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { kid: base64url.encode(new Uint8Array(kidBits)), key };
}

function readKid(token: string): string | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(decoder.decode(base64url.decode(token.slice(0, dot))));
    const kid = (header as { kid?: unknown }).kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

export function createSessionCodec(secrets: readonly string[], salt: string, now: () => number = Date.now): SessionCodec {
  if (secrets.length === 0) throw new TypeError("createSessionCodec needs at least one secret");
  const keys = Promise.all(secrets.map((secret) => deriveKey(secret, salt)));

  return {
    async seal(payload, expiresAt) {
      const [newest] = await keys;
      const plaintext = encoder.encode(JSON.stringify({ ...payload, exp: expiresAt }));
      return new CompactEncrypt(plaintext)
        .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: newest!.kid })
        .encrypt(newest!.key);
    },

    async open(token) {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
      const kid = readKid(token);
      const match = (await keys).find((k) => k.kid === kid);
      if (!match) return null;
      try {
        const { plaintext } = await compactDecrypt(token, match.key, {
          keyManagementAlgorithms: ["dir"],
          contentEncryptionAlgorithms: ["A256GCM"],
        });
        const payload: unknown = JSON.parse(decoder.decode(plaintext));
        if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
        const exp = (payload as { exp?: unknown }).exp;
        if (typeof exp !== "number" || exp * 1000 <= now()) return null;
        return payload as Record<string, unknown>;
      } catch {
        return null;
      }
    },
  };
}
