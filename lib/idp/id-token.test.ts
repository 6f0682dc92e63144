import { SignJWT, UnsecuredJWT, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdTokenVerifier } from "./id-token";

const ISSUER = "https://idp.example";
const CLIENT_ID = "tessera-bff";
const KID = "idp-key-1";

let idpKey: CryptoKey;
let otherKey: CryptoKey;
let verify: (idToken: string) => Promise<JWTPayload>;

beforeAll(async () => {
  const idp = await generateKeyPair("RS256");
  idpKey = idp.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  verify = createIdTokenVerifier({ issuer: ISSUER, clientId: CLIENT_ID, getKey: createLocalJWKSet({ keys: [jwk] }) });
});

/** An ID token as the IdP would issue it; `claims` override the standard ones, so each test changes one thing. */
function idToken(claims: JWTPayload = {}, { key = idpKey, kid = KID }: { key?: CryptoKey; kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: CLIENT_ID, sub: "alice", sid: "sid-1", iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
    .sign(key);
}

describe("createIdTokenVerifier", () => {
  it("accepts a token signed by the IdP and returns its claims", async () => {
    const payload = await verify(await idToken());
    expect(payload).toMatchObject({ iss: ISSUER, aud: CLIENT_ID, sub: "alice", sid: "sid-1" });
  });

  it("accepts an audience array that contains the client id", async () => {
    await expect(verify(await idToken({ aud: [CLIENT_ID, "other"] }))).resolves.toMatchObject({ sub: "alice" });
  });

  it("refuses a token signed by another key under the IdP's kid", async () => {
    await expect(verify(await idToken({}, { key: otherKey }))).rejects.toThrow();
  });

  it("refuses a token whose kid is not in the IdP's key set", async () => {
    await expect(verify(await idToken({}, { kid: "unknown" }))).rejects.toThrow();
  });

  it("refuses an unsigned token (alg: none)", async () => {
    const unsigned = new UnsecuredJWT({ sid: "sid-1" }).setIssuer(ISSUER).setAudience(CLIENT_ID).setSubject("alice").setIssuedAt().setExpirationTime("5m").encode();
    await expect(verify(unsigned)).rejects.toThrow();
  });

  it("refuses an HS256 token, whatever the secret", async () => {
    const hs256 = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: KID })
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("the-client-secret-0123456789-0123456789"));
    await expect(verify(hs256)).rejects.toThrow();
  });

  it("refuses a token from another issuer", async () => {
    await expect(verify(await idToken({ iss: "https://evil.example" }))).rejects.toThrow();
  });

  it("refuses a token for another client", async () => {
    await expect(verify(await idToken({ aud: "another-client" }))).rejects.toThrow();
  });

  it("refuses an expired token", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verify(await idToken({ iat: now - 3600, exp: now - 60 }))).rejects.toThrow();
  });

  it("refuses a token without sub", async () => {
    await expect(verify(await idToken({ sub: undefined }))).rejects.toThrow();
  });

  it("refuses a token without exp", async () => {
    await expect(verify(await idToken({ exp: undefined }))).rejects.toThrow();
  });

  it("accepts a token that expired within the 5-second clock tolerance", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verify(await idToken({ iat: now - 300, exp: now - 2 }))).resolves.toMatchObject({ sub: "alice" });
  });

  it("refuses a tampered payload", async () => {
    const [header, , signature] = (await idToken()).split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: CLIENT_ID, sub: "mallory", iat: 1, exp: 4_000_000_000 })).toString("base64url");
    await expect(verify(`${header}.${forgedPayload}.${signature}`)).rejects.toThrow();
  });
});
