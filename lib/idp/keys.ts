/**
 * The IdP's published signing keys (its `jwks_uri`), for ID tokens and logout tokens alike. Edge-safe.
 */
import type { JWTVerifyGetKey } from "jose";
import { getConfig } from "@/lib/config";
import { idpMetadata } from "./discovery";
import { createKeySet } from "./key-set";

let keys: JWTVerifyGetKey | undefined;

/** The configured IdP's keys: one set per process, fetched within the budget of `key-set.ts`. */
export function idpKeys(): JWTVerifyGetKey {
  keys ??= createKeySet({
    jwksUri: async () => {
      const { jwks_uri } = await idpMetadata();
      if (!jwks_uri) throw new Error("The IdP's discovery document has no jwks_uri");
      return jwks_uri;
    },
    timeoutMs: getConfig().idpTimeoutMs,
  });
  return keys;
}
