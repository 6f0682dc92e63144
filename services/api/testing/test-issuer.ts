import { randomUUID } from "node:crypto";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import type { VerifyAccessTokenOptions } from "../tokens/access-token";
import type { KeyResolver } from "../tokens/signed-token";

/** A signing authority for tests: keys made in memory, tokens minted on demand, no network. */

export const TEST_ISSUER = "https://issuer.test";
export const TEST_AUDIENCE = "https://api.test";
/** The client the test issuer addresses its logout tokens to. */
export const TEST_CLIENT = "tessera-bff";
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export type SigningAlg = "ES256" | "ES384" | "RS256" | "PS256" | "EdDSA" | "RS384";

export interface SigningKey {
  alg: SigningAlg;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(alg: SigningAlg = "ES256", kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export interface MintOptions {
  /** Merged over the defaults; a claim set to `undefined` is left out. Malformed values are allowed on purpose. */
  claims?: Record<string, unknown>;
  /** Merged over `{ alg, kid, typ }`; a parameter set to `undefined` is left out. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the issuer's current one. */
  key?: SigningKey;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function createTestIssuer(alg: SigningAlg = "ES256") {
  const keys: SigningKey[] = [await createSigningKey(alg)];
  const current = () => keys[keys.length - 1] as SigningKey;

  const getKey: KeyResolver = (header) => createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) })(header);

  async function sign(defaults: { claims: Record<string, unknown>; typ: string }, options: MintOptions): Promise<string> {
    const { claims = {}, header = {}, key = current() } = options;
    const payload = { ...defaults.claims, ...claims };
    const protectedHeader = { alg: key.alg, kid: key.kid, typ: defaults.typ, ...header };
    return new SignJWT(payload as JWTPayload).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
  }

  /** An RFC 9068 access token for alice. */
  function mint(options: MintOptions = {}): Promise<string> {
    const iat = nowSeconds();
    const claims = {
      iss: TEST_ISSUER,
      aud: TEST_AUDIENCE,
      sub: "alice",
      jti: randomUUID(),
      scope: "openid notes:read notes:write",
      client_id: "tessera-web",
      sid: "session-alice",
      iat,
      exp: iat + 300,
    };
    return sign({ claims, typ: "at+jwt" }, options);
  }

  /** A Back-Channel Logout 1.0 logout token ending alice's session, shaped as oidc-provider issues them. */
  function mintLogoutToken(options: MintOptions = {}): Promise<string> {
    const iat = nowSeconds();
    const claims = {
      iss: TEST_ISSUER,
      aud: TEST_CLIENT,
      sub: "alice",
      sid: "session-alice",
      jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      iat,
      exp: iat + 120,
    };
    return sign({ claims, typ: "logout+jwt" }, options);
  }

  return {
    getKey,
    mint,
    mintLogoutToken,
    jwks: () => ({ keys: keys.map((k) => k.publicJwk) }),
    /** Publishes a new key and signs with it from now on; earlier keys stay published. */
    async rotate(nextAlg: SigningAlg = alg): Promise<SigningKey> {
      const key = await createSigningKey(nextAlg);
      keys.push(key);
      return key;
    },
  };
}

export type TestIssuer = Awaited<ReturnType<typeof createTestIssuer>>;

/** Access-token verification as the server configures it, against this test issuer. */
export function testVerifyOptions(issuer: TestIssuer, overrides: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions {
  return {
    getKey: issuer.getKey,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    clockTolerance: 5,
    acceptedTypes: ["at+jwt"],
    clientIds: [TEST_CLIENT],
    ...overrides,
  };
}

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString("base64url");

/** Assembles a compact JWS from raw parts, for tokens no honest library would produce. */
export function forgeToken(header: unknown, payload: unknown, signature: string | Uint8Array = ""): string {
  return `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}.${b64(signature)}`;
}

export function decodeSegment(segment: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}
