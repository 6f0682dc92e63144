import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { BACKCHANNEL_LOGOUT_EVENT } from "@/lib/idp/logout-token";

/** An IdP's signing key and the logout tokens it would send; each test changes one thing about them. */
export const TEST_ISSUER = "https://idp.example";
export const TEST_CLIENT_ID = "tessera-bff";
const KID = "idp-key-1";

export interface TestIdp {
  getKey: JWTVerifyGetKey;
  /** Signs a logout token as the IdP would; `claims` override the standard ones (`undefined` removes one). */
  logoutToken(claims?: JWTPayload, options?: { key?: CryptoKey; typ?: string | null; nowSeconds?: number }): Promise<string>;
  /** A key that is not the IdP's. */
  otherKey: CryptoKey;
}

let counter = 0;

export async function createTestIdp(): Promise<TestIdp> {
  const idp = await generateKeyPair("RS256");
  const otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  return {
    getKey: createLocalJWKSet({ keys: [jwk] }),
    otherKey,
    logoutToken(claims = {}, { key = idp.privateKey, typ = "logout+jwt", nowSeconds = Math.floor(Date.now() / 1000) } = {}) {
      counter += 1;
      const payload: JWTPayload = {
        iss: TEST_ISSUER,
        aud: TEST_CLIENT_ID,
        sub: "alice",
        sid: "sid-1",
        iat: nowSeconds,
        exp: nowSeconds + 120,
        jti: `logout-${counter}`,
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: KID, ...(typ === null ? {} : { typ }) }).sign(key);
    },
  };
}
