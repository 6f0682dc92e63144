/**
 * Verifies the ID token's signature against the IdP's published keys.
 *
 * The ID token arrives over the TLS back channel from the token endpoint, so Auth.js (through
 * oauth4webapi) checks its claims but not its signature. Verifying it too means a forged or swapped
 * token never creates a session, even if that channel were compromised. Edge-safe.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

/** Asymmetric algorithms only: an HMAC key would be the client secret, and `none` is no signature. */
export const ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/** Seconds of leeway between the IdP's clock and ours, wherever one of the IdP's times is compared with ours. */
export const CLOCK_TOLERANCE = 5;

export interface IdTokenVerifierOptions {
  issuer: string;
  clientId: string;
  /** Where the keys come from: the IdP's `jwks_uri`, resolved lazily (discovery may not have run yet). */
  getKey: JWTVerifyGetKey;
  clockTolerance?: number;
}

export function createIdTokenVerifier({ issuer, clientId, getKey, clockTolerance = CLOCK_TOLERANCE }: IdTokenVerifierOptions) {
  return async function verifyIdToken(idToken: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(idToken, getKey, {
      issuer,
      audience: clientId,
      algorithms: ID_TOKEN_ALGORITHMS,
      clockTolerance,
      requiredClaims: ["sub", "iat", "exp"],
    });
    return payload;
  };
}

/** A key getter over a `jwks_uri` found at run time, with jose's caching and cooldown. */
export function remoteKeys(jwksUri: () => Promise<string>, timeoutMs: number): JWTVerifyGetKey {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  return async (header, token) => {
    keys ??= createRemoteJWKSet(new URL(await jwksUri()), { timeoutDuration: timeoutMs });
    return keys(header, token);
  };
}
