/**
 * Verifies the ID token's signature against the IdP's published keys.
 *
 * The ID token arrives over the TLS back channel from the token endpoint, so Auth.js (through
 * oauth4webapi) checks its claims but not its signature. Verifying it too means a forged or swapped
 * token never creates a session, even if that channel were compromised. Edge-safe.
 */
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { CLOCK_TOLERANCE, SIGNING_ALGORITHMS } from "./jwt-rules";

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
      algorithms: SIGNING_ALGORITHMS,
      clockTolerance,
      requiredClaims: ["sub", "iat", "exp"],
    });
    return payload;
  };
}
