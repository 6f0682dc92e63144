/**
 * The IdP's metadata (OpenID Connect Discovery), fetched once and shared.
 *
 * Concurrent callers await the same in-flight request; a failure is not cached, so the next caller
 * tries again once the IdP is back. Every request has an explicit timeout. Edge-safe.
 */
import * as oauth from "oauth4webapi";

export interface IdpHttpOptions {
  issuer: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Request options for every oauth4webapi call to the IdP: timeout, injected fetch, http only where config allowed it. */
export function idpRequestOptions<Method, Body>({ issuer, timeoutMs, fetch }: IdpHttpOptions): oauth.HttpRequestOptions<Method, Body> {
  return {
    signal: () => AbortSignal.timeout(timeoutMs),
    // The config refuses http:// issuers in production unless they are on loopback.
    [oauth.allowInsecureRequests]: issuer.startsWith("http:"),
    ...(fetch ? { [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<Method, Body>) => fetch(url, init as RequestInit) } : {}),
  };
}

export function createDiscovery(options: IdpHttpOptions): () => Promise<oauth.AuthorizationServer> {
  const issuer = new URL(options.issuer);
  let metadata: Promise<oauth.AuthorizationServer> | undefined;
  return () => {
    metadata ??= oauth
      .discoveryRequest(issuer, idpRequestOptions(options))
      .then((response) => oauth.processDiscoveryResponse(issuer, response))
      .catch((error: unknown) => {
        metadata = undefined;
        throw error;
      });
    return metadata;
  };
}
