/**
 * The IdP's metadata (OpenID Connect Discovery), fetched once and shared.
 *
 * Concurrent callers await the same in-flight request; a failure is not cached, so the next caller
 * tries again once the IdP is back. Every request has an explicit timeout. Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { getConfig } from "@/lib/config";
import { idpRequestOptions, type IdpHttpOptions } from "./http";

export function createDiscovery(options: IdpHttpOptions): () => Promise<oauth.AuthorizationServer> {
  const issuer = new URL(options.issuer);
  let metadata: Promise<oauth.AuthorizationServer> | undefined;
  return () => {
    metadata ??= oauth
      .discoveryRequest(issuer, idpRequestOptions(options, "discovery"))
      .then((response) => oauth.processDiscoveryResponse(issuer, response))
      .catch((error: unknown) => {
        metadata = undefined;
        throw error;
      });
    return metadata;
  };
}

let discover: (() => Promise<oauth.AuthorizationServer>) | undefined;

/** The configured IdP's metadata, shared by every caller in the process. */
export function idpMetadata(): Promise<oauth.AuthorizationServer> {
  const { issuer, idpTimeoutMs } = getConfig();
  discover ??= createDiscovery({ issuer, timeoutMs: idpTimeoutMs });
  return discover();
}
