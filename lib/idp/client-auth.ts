/**
 * This app as the IdP's confidential client: who it is, and how it proves it at every endpoint that asks (the
 * token endpoint at sign-in and at each refresh, the revocation endpoint at sign-out). One method, in one place.
 * Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { getConfig } from "@/lib/config";
import { idpMetadata } from "./discovery";
import type { IdpHttpOptions } from "./http";

/** RFC 6749 section 2.3.1: the client id and secret in an HTTP Basic `Authorization` header. */
export const TOKEN_ENDPOINT_AUTH_METHOD = "client_secret_basic";

export interface ClientOptions extends IdpHttpOptions {
  metadata: () => Promise<oauth.AuthorizationServer>;
  clientId: string;
  clientSecret: string;
}

export function clientAuthentication(clientSecret: string): oauth.ClientAuth {
  return oauth.ClientSecretBasic(clientSecret);
}

/** The client as configured, against the configured IdP. */
export function configuredClient(): ClientOptions {
  const { issuer, clientId, clientSecret, idpTimeoutMs } = getConfig();
  return { metadata: idpMetadata, issuer, clientId, clientSecret, timeoutMs: idpTimeoutMs };
}
