/**
 * Every call to the IdP over HTTP: its request options, and what a failed call says about the IdP. Edge-safe.
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

/** Whether the call never got an answer: fetch rejects with a TypeError on network errors, a DOMException on timeout or abort. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof DOMException;
}

/**
 * The HTTP status of the IdP's error answer, where it gave one: an OAuth error body, or any other answer (a proxy's
 * 502 page, say), which oauth4webapi carries as the error's cause.
 */
export function errorStatus(error: unknown): number | undefined {
  if (error instanceof oauth.ResponseBodyError) return error.status;
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response) return error.cause.status;
  return undefined;
}
