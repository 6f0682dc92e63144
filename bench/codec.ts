/**
 * Per-call cost of reading and writing the session cookie, in this process: Tessera's codec (iron-session's
 * `unsealData`/`sealData`) against the JWE codec it replaced and against Auth.js's default JWT
 * `encode`/`decode` (which derive the key with HKDF on every call), on the same real session payload and secret.
 */
import { CompactEncrypt, base64url } from "jose";
import { decode, encode } from "next-auth/jwt";
import { createSessionCodec } from "@/lib/session/codec";
import { createLegacyJweReader } from "@/lib/session/legacy-jwe";
import { median } from "./load";

export interface CodecCosts {
  iterations: number;
  /** Microseconds per call: `lib/session/codec.ts`, that is iron-session's `unsealData`/`sealData` and the `exp` check. */
  tesseraOpen: number;
  tesseraSeal: number;
  /** Microseconds per call: the compact JWE (`dir`, `A256GCM`, keys derived once) that Tessera sealed with before iron-session. */
  jweOpen: number;
  jweSeal: number;
  authjsDecode: number;
  authjsEncode: number;
  /** Characters of the sealed value. */
  tesseraLength: number;
  jweLength: number;
  authjsLength: number;
}

/**
 * The JWE codec's seal, for comparison only: its key derived once, as that codec did. Its open is the
 * legacy reader, which still opens such cookies.
 */
async function jweSealer(secret: string, salt: string): Promise<(payload: Record<string, unknown>, expiresAt: number) => Promise<string>> {
  const encoder = new TextEncoder();
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
  const derive = (info: string, bits: number) =>
    crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) }, ikm, bits);
  const [keyBits, kidBits] = await Promise.all([derive("tessera session encryption key", 256), derive("tessera session key id", 64)]);
  const key = await crypto.subtle.importKey("raw", keyBits, "AES-GCM", false, ["encrypt"]);
  const kid = base64url.encode(new Uint8Array(kidBits));
  return (payload, expiresAt) =>
    new CompactEncrypt(encoder.encode(JSON.stringify({ ...payload, exp: expiresAt }))).setProtectedHeader({ alg: "dir", enc: "A256GCM", kid }).encrypt(key);
}

async function microsecondsPerCall(iterations: number, call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < iterations; i += 1) await call();
  return ((performance.now() - start) * 1000) / iterations;
}

export async function codecCosts(secret: string, salt: string, payload: Record<string, unknown>, iterations: number): Promise<CodecCosts> {
  const codec = createSessionCodec([secret], salt);
  const jweSeal = await jweSealer(secret, salt);
  const jweReader = createLegacyJweReader([secret], salt);
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const sealed = await codec.seal(payload, expiresAt);
  const oldSealed = await jweSeal(payload, expiresAt);
  const jwe = await encode({ token: payload, secret, salt });
  if (!(await codec.open(sealed)) || !(await jweReader.open(oldSealed)) || !(await decode({ token: jwe, secret, salt }))) {
    throw new Error("codec benchmark: a sealed payload did not open");
  }

  const calls = {
    tesseraOpen: () => codec.open(sealed),
    tesseraSeal: () => codec.seal(payload, expiresAt),
    jweOpen: () => jweReader.open(oldSealed),
    jweSeal: () => jweSeal(payload, expiresAt),
    authjsDecode: () => decode({ token: jwe, secret, salt }),
    authjsEncode: () => encode({ token: payload, secret, salt }),
  };
  const samples: Record<keyof typeof calls, number[]> = { tesseraOpen: [], tesseraSeal: [], jweOpen: [], jweSeal: [], authjsDecode: [], authjsEncode: [] };
  for (const call of Object.values(calls)) await microsecondsPerCall(Math.ceil(iterations / 10), call);
  // Interleaved repetitions, so a busy moment on the machine does not fall on one codec only.
  for (let repetition = 0; repetition < 3; repetition += 1) {
    for (const [name, call] of Object.entries(calls) as [keyof typeof calls, () => Promise<unknown>][]) {
      samples[name].push(await microsecondsPerCall(iterations, call));
    }
  }
  return {
    iterations,
    tesseraOpen: median(samples.tesseraOpen),
    tesseraSeal: median(samples.tesseraSeal),
    jweOpen: median(samples.jweOpen),
    jweSeal: median(samples.jweSeal),
    authjsDecode: median(samples.authjsDecode),
    authjsEncode: median(samples.authjsEncode),
    tesseraLength: sealed.length,
    jweLength: oldSealed.length,
    authjsLength: jwe.length,
  };
}
