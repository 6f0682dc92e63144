/**
 * Per-call cost of reading and writing the session cookie, in this process: Tessera's codec against
 * Auth.js's default JWT `encode`/`decode` (which derive the key with HKDF on every call), on the same
 * real session payload and secret.
 */
import { decode, encode } from "next-auth/jwt";
import { createSessionCodec } from "@/lib/session/codec";
import { median } from "./load";

export interface CodecCosts {
  iterations: number;
  /** Microseconds per call. */
  tesseraOpen: number;
  tesseraSeal: number;
  authjsDecode: number;
  authjsEncode: number;
  /** Characters of the sealed value. */
  tesseraLength: number;
  authjsLength: number;
}

async function microsecondsPerCall(iterations: number, call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < iterations; i += 1) await call();
  return ((performance.now() - start) * 1000) / iterations;
}

export async function codecCosts(secret: string, salt: string, payload: Record<string, unknown>, iterations: number): Promise<CodecCosts> {
  const codec = createSessionCodec([secret], salt);
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const sealed = await codec.seal(payload, expiresAt);
  const jwe = await encode({ token: payload, secret, salt });
  if (!(await codec.open(sealed)) || !(await decode({ token: jwe, secret, salt }))) throw new Error("codec benchmark: a sealed payload did not open");

  const calls = {
    tesseraOpen: () => codec.open(sealed),
    tesseraSeal: () => codec.seal(payload, expiresAt),
    authjsDecode: () => decode({ token: jwe, secret, salt }),
    authjsEncode: () => encode({ token: payload, secret, salt }),
  };
  const samples: Record<keyof typeof calls, number[]> = { tesseraOpen: [], tesseraSeal: [], authjsDecode: [], authjsEncode: [] };
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
    authjsDecode: median(samples.authjsDecode),
    authjsEncode: median(samples.authjsEncode),
    tesseraLength: sealed.length,
    authjsLength: jwe.length,
  };
}
