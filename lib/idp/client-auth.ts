/**
 * This app as the IdP's confidential client: who it is, and how it proves it at every endpoint that asks: the
 * token endpoint at sign-in and at each refresh, the revocation endpoint at sign-out. One method, configured once
 * (`OIDC_CLIENT_AUTH_METHOD`), applied here to every one of those calls, Auth.js's code exchange included
 * (`authenticatingFetch`). Edge-safe.
 *
 * - `client_secret_basic` (the default): the id and secret in an HTTP Basic header, each first encoded as
 *   `application/x-www-form-urlencoded` exactly, as RFC 6749 section 2.3.1 asks (`-`, `.`, `_` and `*` stay as
 *   they are). Encoders differ here in practice, and an IdP that does not decode the credentials refuses any
 *   other encoding of an id or secret with such characters.
 * - `client_secret_post`: the id and secret in the form body; for IdPs picky about the Basic header.
 * - `private_key_jwt`: a short-lived JWT signed with the client's private key (`OIDC_CLIENT_PRIVATE_KEY`, a JWK)
 *   whose public half is registered at the IdP; no shared secret at all.
 */
import { importJWK } from "jose";
import * as oauth from "oauth4webapi";
import { getConfig, type ClientAuthMethod, type PrivateJwk } from "@/lib/config";
import { idpMetadata } from "./discovery";
import type { IdpHttpOptions } from "./http";

export interface ClientOptions extends IdpHttpOptions {
  metadata: () => Promise<oauth.AuthorizationServer>;
  clientId: string;
  clientSecret: string;
  clientAuthMethod?: ClientAuthMethod;
  clientPrivateKey?: PrivateJwk;
}

/** `application/x-www-form-urlencoded`, as a browser's form and `URLSearchParams` write it. */
export const formUrlEncode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);

const DEFAULT_ALGORITHMS: Record<string, string> = { RSA: "RS256", "EC:P-256": "ES256", "EC:P-384": "ES384", "EC:P-521": "ES512", "OKP:Ed25519": "EdDSA" };

/** The JWS algorithm a private JWK signs with: its own `alg`, else the usual one for its key type. */
export function signingAlgorithm(jwk: PrivateJwk): string {
  const alg = jwk.alg ?? DEFAULT_ALGORITHMS[jwk.kty === "RSA" ? "RSA" : `${jwk.kty}:${String(jwk.crv)}`];
  if (!alg) throw new TypeError(`No signing algorithm for a ${jwk.kty} key on ${String(jwk.crv)}: give the JWK an alg`);
  return alg;
}

/**
 * The client's credentials cannot be used (a key that cannot sign) or may not be sent (to an http endpoint): a fault
 * of this deployment, never of the IdP's availability. Not a `TypeError`, which a failed fetch also is, so that it is
 * never taken for an IdP that did not answer.
 */
export class ClientCredentialsError extends Error {
  override readonly name = "ClientCredentialsError";
}

// Imported once per key: a refresh must not pay for an RSA key import. A failure is not kept.
const importedKeys = new WeakMap<PrivateJwk, Promise<CryptoKey>>();

function importKey(jwk: PrivateJwk): Promise<CryptoKey> {
  let key = importedKeys.get(jwk);
  if (!key) {
    key = Promise.resolve()
      .then(() => importJWK(jwk, signingAlgorithm(jwk)) as Promise<CryptoKey>)
      .catch((error: unknown) => {
        importedKeys.delete(jwk);
        throw new ClientCredentialsError(`OIDC_CLIENT_PRIVATE_KEY cannot sign: ${error instanceof Error ? error.message : "an unusable key"}`);
      });
    importedKeys.set(jwk, key);
  }
  return key;
}

function privateKeyJwt(jwk: PrivateJwk): oauth.ClientAuth {
  return async (as, client, body, headers) => oauth.PrivateKeyJwt({ key: await importKey(jwk), kid: jwk.kid })(as, client, body, headers);
}

/** The configured method, as oauth4webapi applies it to a request. */
export function clientAuthentication({ clientSecret, clientAuthMethod = "client_secret_basic", clientPrivateKey }: ClientOptions): oauth.ClientAuth {
  switch (clientAuthMethod) {
    case "client_secret_basic":
      return (_as, client, _body, headers) => {
        headers.set("authorization", `Basic ${btoa(`${formUrlEncode(client.client_id)}:${formUrlEncode(clientSecret)}`)}`);
      };
    case "client_secret_post":
      return oauth.ClientSecretPost(clientSecret);
    case "private_key_jwt":
      if (!clientPrivateKey) throw new TypeError("private_key_jwt needs the client's private key");
      return privateKeyJwt(clientPrivateKey);
  }
}

/**
 * A `fetch` for Auth.js that authenticates its requests to the token endpoint (the code exchange) with
 * `clientAuthentication`, as every other call to the IdP is. Auth.js is configured as a public client (`none`),
 * so what it sends is only its `client_id` in the body; that is replaced.
 */
export function authenticatingFetch(client: ClientOptions, fetchImpl: typeof fetch = fetch): typeof fetch {
  const authenticate = clientAuthentication(client);
  return async (input, init) => {
    const as = await client.metadata();
    const url = input instanceof Request ? input.url : String(input);
    if (url !== as.token_endpoint || !(init?.body instanceof URLSearchParams)) return fetchImpl(input, init);
    // Credentials travel in cleartext only to an IdP the configuration allowed on http (loopback, in production).
    if (new URL(url).protocol !== "https:" && !client.issuer.startsWith("http:")) {
      throw new ClientCredentialsError("The IdP's token endpoint is not https: the client's credentials are not sent to it");
    }
    const body = new URLSearchParams(init.body);
    body.delete("client_id");
    const headers = new Headers(init.headers);
    await authenticate(as, { client_id: client.clientId }, body, headers);
    return fetchImpl(input, { ...init, body, headers });
  };
}

/** The client as configured, against the configured IdP. */
export function configuredClient(): ClientOptions {
  const { issuer, clientId, clientSecret, clientAuthMethod, clientPrivateKey, idpTimeoutMs } = getConfig();
  return { metadata: idpMetadata, issuer, clientId, clientSecret, clientAuthMethod, clientPrivateKey, timeoutMs: idpTimeoutMs };
}
