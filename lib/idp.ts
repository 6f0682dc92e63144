/**
 * This app's view of its IdP: the discovery document and the signing keys, shared by every caller in the
 * process. Edge-safe.
 */
import type { JWTVerifyGetKey } from "jose";
import type { AuthorizationServer } from "oauth4webapi";
import { getConfig } from "./config";
import { remoteKeys } from "./id-token";
import { createDiscovery } from "./oidc-discovery";

let discover: (() => Promise<AuthorizationServer>) | undefined;
let keys: JWTVerifyGetKey | undefined;

export function idpMetadata(): Promise<AuthorizationServer> {
  const { issuer, idpTimeoutMs } = getConfig();
  discover ??= createDiscovery({ issuer, timeoutMs: idpTimeoutMs });
  return discover();
}

/** The IdP's published keys (its `jwks_uri`), for ID tokens and logout tokens alike: one cache per process. */
export function idpKeys(): JWTVerifyGetKey {
  keys ??= remoteKeys(async () => {
    const { jwks_uri } = await idpMetadata();
    if (!jwks_uri) throw new Error("The IdP's discovery document has no jwks_uri");
    return jwks_uri;
  }, getConfig().idpTimeoutMs);
  return keys;
}
