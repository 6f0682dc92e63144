import { exportJWK, generateKeyPair, jwtVerify } from "jose";
import type * as oauth from "oauth4webapi";
import { describe, expect, it, vi } from "vitest";
import type { PrivateJwk } from "@/lib/config";
import { authenticatingFetch, clientAuthentication, ClientCredentialsError, formUrlEncode, signingAlgorithm, type ClientOptions } from "./client-auth";

const ISSUER = "https://idp.example";
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const AS: oauth.AuthorizationServer = { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT };
/** Every character a client id or secret can hold that letters and digits are not. */
const CLIENT_ID = "interop-bff.v2_*~!'()";
const CLIENT_SECRET = "s3cr3t+/=:%&?# -._*é";

const client = (overrides: Partial<ClientOptions> = {}): ClientOptions => ({
  metadata: async () => AS,
  issuer: ISSUER,
  timeoutMs: 1000,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  ...overrides,
});

async function apply(options: ClientOptions) {
  const body = new URLSearchParams({ grant_type: "refresh_token" });
  const headers = new Headers();
  await clientAuthentication(options)(AS, { client_id: options.clientId }, body, headers);
  return { body, headers };
}

const basicCredentials = (headers: Headers) => atob(headers.get("authorization")!.replace(/^Basic /, ""));

describe("formUrlEncode", () => {
  it("is application/x-www-form-urlencoded exactly: only letters, digits and -._* stay, a space is +", () => {
    expect(formUrlEncode("aZ09-._*")).toBe("aZ09-._*");
    expect(formUrlEncode("a b")).toBe("a+b");
    expect(formUrlEncode("~!'()+/=:%&?#")).toBe("%7E%21%27%28%29%2B%2F%3D%3A%25%26%3F%23");
    expect(formUrlEncode("é")).toBe("%C3%A9");
  });
});

describe("clientAuthentication", () => {
  it("client_secret_basic: the id and secret form-urlencoded, then Base64, in the Authorization header only", async () => {
    const { body, headers } = await apply(client());
    expect(basicCredentials(headers)).toBe(`${formUrlEncode(CLIENT_ID)}:${formUrlEncode(CLIENT_SECRET)}`);
    expect(basicCredentials(headers)).toMatch(/^interop-bff\.v2_\*%7E%21%27%28%29:/);
    expect([...body.keys()]).toEqual(["grant_type"]);
  });

  it("client_secret_basic is the default", async () => {
    expect((await apply(client())).headers.get("authorization")).toBe((await apply(client({ clientAuthMethod: "client_secret_basic" }))).headers.get("authorization"));
  });

  it("client_secret_post: the id and secret in the body as they are, no Authorization header", async () => {
    const { body, headers } = await apply(client({ clientAuthMethod: "client_secret_post" }));
    expect(body.get("client_id")).toBe(CLIENT_ID);
    expect(body.get("client_secret")).toBe(CLIENT_SECRET);
    expect(headers.has("authorization")).toBe(false);
  });

  it("private_key_jwt: a client assertion signed with the key, verifiable with its public half, and no secret", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: "key-1" } as PrivateJwk;
    const { body, headers } = await apply(client({ clientAuthMethod: "private_key_jwt", clientPrivateKey: jwk, clientSecret: "" }));
    expect(headers.has("authorization")).toBe(false);
    expect(body.has("client_secret")).toBe(false);
    expect(body.get("client_id")).toBe(CLIENT_ID);
    expect(body.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const { payload, protectedHeader } = await jwtVerify(body.get("client_assertion")!, publicKey, { issuer: CLIENT_ID, subject: CLIENT_ID, audience: ISSUER });
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: "key-1" });
    expect(typeof payload.jti).toBe("string");
  });

  it("private_key_jwt with a key that cannot sign fails as the client's fault, never as an unreachable IdP, and tries again next time", async () => {
    const broken = { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", d: "AAAA", kid: "bad" } as PrivateJwk;
    const attempt = () => apply(client({ clientAuthMethod: "private_key_jwt", clientPrivateKey: broken, clientSecret: "" }));
    for (let i = 0; i < 2; i += 1) {
      const error = await attempt().then(() => undefined, (failure: unknown) => failure);
      expect(error).toBeInstanceOf(ClientCredentialsError);
      expect(error).not.toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^OIDC_CLIENT_PRIVATE_KEY cannot sign/);
      expect((error as Error).message).not.toContain("AAAA");
    }
  });

  it("private_key_jwt without a key is a programming error, caught at once", () => {
    expect(() => clientAuthentication(client({ clientAuthMethod: "private_key_jwt" }))).toThrow(/private key/);
  });
});

describe("signingAlgorithm", () => {
  it("takes the JWK's alg, else the usual one for its key type", () => {
    expect(signingAlgorithm({ kty: "RSA", d: "x", alg: "PS256" })).toBe("PS256");
    expect(signingAlgorithm({ kty: "RSA", d: "x" })).toBe("RS256");
    expect(signingAlgorithm({ kty: "EC", crv: "P-384", d: "x" })).toBe("ES384");
    expect(signingAlgorithm({ kty: "OKP", crv: "Ed25519", d: "x" })).toBe("EdDSA");
    expect(() => signingAlgorithm({ kty: "EC", crv: "secp256k1", d: "x" })).toThrow(/give the JWK an alg/);
  });
});

describe("authenticatingFetch", () => {
  const recording = () => {
    const calls: Array<{ url: string; body?: URLSearchParams; headers: Headers }> = [];
    const fetchImpl = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      calls.push({ url: String(input), body: init.body instanceof URLSearchParams ? init.body : undefined, headers: new Headers(init.headers) });
      return new Response("{}");
    });
    return { calls, fetchImpl: fetchImpl as typeof fetch };
  };

  it("authenticates Auth.js's code exchange as every other token request, replacing its public-client client_id", async () => {
    const { calls, fetchImpl } = recording();
    const body = new URLSearchParams({ grant_type: "authorization_code", code: "c", client_id: CLIENT_ID });
    await authenticatingFetch(client(), fetchImpl)(TOKEN_ENDPOINT, { method: "POST", body, headers: { accept: "application/json" } });
    const [call] = calls;
    expect(call?.body?.has("client_id")).toBe(false);
    expect(call?.body?.get("code")).toBe("c");
    expect(call?.headers.get("accept")).toBe("application/json");
    expect(basicCredentials(call!.headers)).toBe(`${formUrlEncode(CLIENT_ID)}:${formUrlEncode(CLIENT_SECRET)}`);
  });

  it("puts the id back in the body for the methods that carry it there", async () => {
    const { calls, fetchImpl } = recording();
    const body = new URLSearchParams({ grant_type: "authorization_code", client_id: CLIENT_ID });
    await authenticatingFetch(client({ clientAuthMethod: "client_secret_post" }), fetchImpl)(TOKEN_ENDPOINT, { method: "POST", body });
    expect(calls[0]?.body?.getAll("client_id")).toEqual([CLIENT_ID]);
    expect(calls[0]?.body?.get("client_secret")).toBe(CLIENT_SECRET);
  });

  it("never sends credentials to a token endpoint on plain http when the issuer is https", async () => {
    const { calls, fetchImpl } = recording();
    const downgraded = client({ metadata: async () => ({ issuer: ISSUER, token_endpoint: "http://idp.example/token" }) });
    const body = new URLSearchParams({ grant_type: "authorization_code", code: "c" });
    await expect(authenticatingFetch(downgraded, fetchImpl)("http://idp.example/token", { method: "POST", body })).rejects.toBeInstanceOf(ClientCredentialsError);
    expect(calls).toEqual([]);
  });

  it("passes every other request through untouched", async () => {
    const { calls, fetchImpl } = recording();
    await authenticatingFetch(client(), fetchImpl)(`${ISSUER}/.well-known/openid-configuration`, { headers: { accept: "application/json" } });
    expect(calls[0]?.headers.has("authorization")).toBe(false);
  });
});
