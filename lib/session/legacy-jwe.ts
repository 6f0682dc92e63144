/**
 * Opens session cookies sealed before the codec moved to iron-session: a compact JWE (`dir`, `A256GCM`)
 * keyed by HKDF from each `AUTH_SECRET`, with a derived, non-secret `kid` in the protected header. Open-only:
 * whoever writes a session seals it again with iron-session, so such a cookie is replaced at its next write.
 *
 * Delete this file (and its call in `codec.ts`) once `SESSION_MAX_AGE` has passed since the release that
 * moved to iron-session: every session sealed by the old codec has expired by then. Edge-safe: Web Crypto
 * and `jose` only.
 */
import { compactDecrypt, base64url } from "jose";

export interface LegacyJweReader {
  /**
   * The decrypted JSON object, or `null` when the token is no JWE of this app's keys or does not decrypt.
   * Its `exp` is the caller's to check.
   */
  open(token: string): Promise<Record<string, unknown> | null>;
}

interface DerivedKey {
  kid: string;
  key: CryptoKey;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The old codec's derivation, unchanged: changing any label here would lock out the cookies it exists for. */
async function deriveKey(secret: string, salt: string): Promise<DerivedKey> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
  const derive = (info: string, bits: number) =>
    crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) }, ikm, bits);
  const [keyBits, kidBits] = await Promise.all([derive("tessera session encryption key", 256), derive("tessera session key id", 64)]);
  const key = await crypto.subtle.importKey("raw", keyBits, "AES-GCM", false, ["decrypt"]);
  return { kid: base64url.encode(new Uint8Array(kidBits)), key };
}

function readKid(token: string): string | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(decoder.decode(base64url.decode(token.slice(0, dot))));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** `secrets` newest first, as for the codec; keys are derived on the first old cookie, then cached. */
export function createLegacyJweReader(secrets: readonly string[], salt: string): LegacyJweReader {
  let keys: Promise<DerivedKey[]> | undefined;

  return {
    async open(token) {
      const kid = readKid(token);
      if (kid === undefined) return null;
      keys ??= Promise.all(secrets.map((secret) => deriveKey(secret, salt)));
      const match = (await keys).find((k) => k.kid === kid);
      if (!match) return null;
      try {
        const { plaintext } = await compactDecrypt(token, match.key, {
          keyManagementAlgorithms: ["dir"],
          contentEncryptionAlgorithms: ["A256GCM"],
        });
        const payload: unknown = JSON.parse(decoder.decode(plaintext));
        if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
        return payload as Record<string, unknown>;
      } catch {
        return null;
      }
    },
  };
}
