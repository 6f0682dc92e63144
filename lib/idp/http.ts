/**
 * Every call to the IdP over HTTP: its request options, and what a failed call says about the IdP. Edge-safe.
 */
import * as oauth from "oauth4webapi";
import { causeChain } from "@/lib/errors";
import type { IdpEndpoint } from "@/lib/telemetry/signals";
import { observedIdpFetch } from "./observed-fetch";

export interface IdpHttpOptions {
  issuer: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * Request options for every oauth4webapi call to the IdP's `endpoint`: timeout, injected fetch, observed (see
 * `observed-fetch.ts`), http only where config allowed it.
 */
export function idpRequestOptions<Method, Body>({ issuer, timeoutMs, fetch }: IdpHttpOptions, endpoint: IdpEndpoint): oauth.HttpRequestOptions<Method, Body> {
  const observed = observedIdpFetch(endpoint, fetch);
  return {
    signal: () => AbortSignal.timeout(timeoutMs),
    // The config refuses http:// issuers in production unless they are on loopback.
    [oauth.allowInsecureRequests]: issuer.startsWith("http:"),
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<Method, Body>) => observed(url, init as RequestInit),
  };
}

/** Whether the call never got an answer: fetch rejects with a TypeError on network errors, a DOMException on timeout or abort. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof DOMException;
}

/**
 * The HTTP status of the IdP's error answer, where it gave one: an OAuth error body, a `WWW-Authenticate`
 * challenge, or any other answer (a proxy's 502 page, say), which oauth4webapi carries as the error's cause.
 */
export function errorStatus(error: unknown): number | undefined {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) return error.status;
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response) return error.cause.status;
  return undefined;
}

/** The statuses that say "not now" rather than "no": server errors, a timeout, a rate limit. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** An OAuth `error` code as IdPs write them, and nothing that could carry what a request carried. */
export const isOAuthErrorCode = (code: string): boolean => /^[A-Za-z0-9_.:-]{1,64}$/.test(code);

/**
 * What the IdP answered, for the log: the HTTP status and its OAuth `error` code, never the description, which can
 * carry what the request carried. A code outside the characters OAuth codes use is not repeated either.
 */
export function describeAnswer(error: unknown): string {
  const status = errorStatus(error);
  if (status === undefined) return "no answer";
  const code =
    error instanceof oauth.ResponseBodyError ? error.error : error instanceof oauth.WWWAuthenticateChallengeError ? error.cause[0]?.parameters.error : undefined;
  if (code === undefined) return `HTTP ${status} without an OAuth error`;
  return isOAuthErrorCode(code) ? `HTTP ${status}, error ${code}` : `HTTP ${status} with an unrecognised error code`;
}

/**
 * What the IdP refused, found among `error`'s causes, for the one log line an operator acts on: the endpoint, the
 * HTTP status and the OAuth `error` code (`describeAnswer`). `undefined` when no answer of the IdP's is in there (a
 * network error, say).
 */
export function idpRefusalIn(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const status = errorStatus(current);
    if (status === undefined) continue;
    const { response, cause } = current as { response?: unknown; cause?: unknown };
    const answer = [response, cause].find((value): value is Response => value instanceof Response && value.url !== "");
    const endpoint = answer ? new URL(answer.url) : undefined;
    return `${endpoint ? `${endpoint.origin}${endpoint.pathname}` : "the IdP"} answered ${describeAnswer(current)}`;
  }
  return undefined;
}
