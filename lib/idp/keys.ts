/**
 * The IdP's published signing keys (its `jwks_uri`), for ID tokens and logout tokens alike. Edge-safe.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { getConfig } from "@/lib/config";
import { idpMetadata } from "./discovery";

/** A key getter over a `jwks_uri` found at run time, with jose's caching and cooldown. */
function remoteKeys(jwksUri: () => Promise<string>, timeoutMs: number): JWTVerifyGetKey {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  return async (header, token) => {
    keys ??= createRemoteJWKSet(new URL(await jwksUri()), { timeoutDuration: timeoutMs });
    return keys(header, token);
  };
}

let keys: JWTVerifyGetKey | undefined;

/** The configured IdP's keys: one cache per process. */
export function idpKeys(): JWTVerifyGetKey {
  keys ??= remoteKeys(async () => {
    const { jwks_uri } = await idpMetadata();
    if (!jwks_uri) throw new Error("The IdP's discovery document has no jwks_uri");
    return jwks_uri;
  }, getConfig().idpTimeoutMs);
  return keys;
}
