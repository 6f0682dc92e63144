/**
 * Seals and opens the session payload with iron-session (`sealData`/`unsealData`), keyed by `AUTH_SECRET`.
 *
 * Each secret becomes an iron password bound to the cookie name (`salt`), and a non-secret password id that
 * iron writes into every seal: with several secrets (newest first, for rotation) the seal names the one it
 * was made with, so opening needs no trial decryption. Ids come from the secret itself, never from its
 * place in the list, which shifts whenever a secret is added in front or the oldest one dropped.
 * Edge-safe: Web Crypto and iron-session (`iron-webcrypto`, `uncrypto`) only.
 */
import { sealData, unsealData } from "iron-session";
import { createLegacyJweReader } from "./legacy-jwe";

export interface SessionCodec {
  /** Seals `payload`, stamping `exp`; `expiresAt` is in seconds since the epoch. */
  seal(payload: Record<string, unknown>, expiresAt: number): Promise<string>;
  /** The payload, or `null` when the token is malformed, tampered with, sealed with an unknown secret, or expired. */
  open(token: string): Promise<Record<string, unknown> | null>;
}

/** iron-session's password map: id → password of 32 characters or more. */
type Passwords = Record<string, string>;

interface DerivedPasswords {
  /** Only the newest secret's password, so that `sealData` cannot pick any other. */
  sealing: Passwords;
  /** Every secret's password, for `unsealData`. */
  opening: Passwords;
}

const encoder = new TextEncoder();
/** A session cookie is a few kilobytes; anything far larger is refused before any crypto. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Every iron seal starts so; anything else is a cookie from before iron-session, or garbage. */
const IRON_PREFIX = "Fe26.2*";

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * The password is HMAC-SHA256(secret, salt) in hex: 64 characters, and a seal made for one cookie name
 * does not open as another. The id is 48 bits of the password's SHA-256, written in decimal: `sealData`
 * picks the password whose id is the largest *number*, so an id must read back unchanged through
 * `Number()` (no hex, no leading zero, under 2^53), and iron accepts only `\w+` in it anyway.
 */
async function derivePassword(secret: string, salt: string): Promise<{ id: string; password: string }> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const password = hex(await crypto.subtle.sign("HMAC", key, encoder.encode(salt)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(password)));
  const id = digest.slice(0, 6).reduce((n, byte) => n * 256 + byte, 0);
  return { id: String(id), password };
}

async function derivePasswords(secrets: readonly string[], salt: string): Promise<DerivedPasswords> {
  const derived = await Promise.all(secrets.map((secret) => derivePassword(secret, salt)));
  const newest = derived[0]!;
  // No prototype: an id read from a cookie is looked up with `in`, and "constructor" must not be found.
  const opening: Passwords = Object.create(null) as Passwords;
  // Oldest first, so that on a (2^-48) id collision the newer secret is the one kept.
  for (const { id, password } of [...derived].reverse()) opening[id] = password;
  return { sealing: { [newest.id]: newest.password }, opening };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface CodecOptions {
  /**
   * Also open cookies sealed before iron-session (`legacy-jwe.ts`): only the session cookie can be one. Any other
   * cookie leaves that reader, and what it parses, out of reach.
   */
  openLegacyJwe?: boolean;
}

export function createSessionCodec(secrets: readonly string[], salt: string, now: () => number = Date.now, { openLegacyJwe = false }: CodecOptions = {}): SessionCodec {
  if (secrets.length === 0) throw new TypeError("createSessionCodec needs at least one secret");
  const passwords = derivePasswords(secrets, salt);
  const legacy = openLegacyJwe ? createLegacyJweReader(secrets, salt) : undefined;

  /**
   * iron stamps its own expiry from the real clock, `ttl` seconds ahead (0 would mean none), and refuses the
   * seal 60 s after it. The `exp` in the payload, checked against the injected clock, is what decides;
   * iron's expiry only has to come no earlier, so it gets the time left, at least 1 s.
   */
  const ttlFor = (expiresAt: number) => {
    const left = Math.ceil(expiresAt - now() / 1000);
    return Number.isFinite(left) && left > 0 ? left : 1;
  };

  return {
    async seal(payload, expiresAt) {
      const { sealing } = await passwords;
      return sealData({ ...payload, exp: expiresAt }, { password: sealing, ttl: ttlFor(expiresAt) });
    },

    async open(token) {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
      let payload: unknown;
      try {
        if (token.startsWith(IRON_PREFIX)) payload = await unsealData<Record<string, unknown>>(token, { password: (await passwords).opening });
        else payload = legacy ? await legacy.open(token) : null;
      } catch {
        return null;
      }
      if (!isObject(payload)) return null;
      const exp = payload.exp;
      if (typeof exp !== "number" || exp * 1000 <= now()) return null;
      return payload;
    },
  };
}
