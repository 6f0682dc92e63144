/**
 * The JSON answers of the BFF's own routes, and the one list of their `error` codes: never cached, since they
 * carry session data or errors about it. Safe in the browser too: `bffFetch` reads the codes.
 */

/** Every `error` code the BFF answers with, each with the status it comes with. The UI branches on these. */
export type ErrorCode =
  /** 401: no session, or one that cannot be used: sign in. */
  | "unauthenticated"
  /** 401: the IdP refused to renew the session (the answer's `reason` says how): sign in again. */
  | "session_expired"
  /** 401: the freshness hint outlived the access token; the hint is gone: retry once, and the refresh happens. */
  | "refresh_required"
  /** 403: a data request without the anti-forgery header. */
  | "missing_csrf_header"
  /** 403: an unsafe request (or sign-out) from another origin. */
  | "cross_origin"
  /** 404. */
  | "not_found"
  /** 413: a request body over the limit. */
  | "payload_too_large"
  /** 503: the access token expired and the IdP cannot be reached to renew it. */
  | "idp_unavailable"
  /** 503: what every instance shares (the list of ended sessions, refresh coordination) cannot be reached; the session is kept. */
  | "service_unavailable"
  /** 504: the API did not answer in time. */
  | "upstream_timeout"
  /** 502: the API could not be reached, or its answer was cut off. */
  | "upstream_unavailable"
  /** 502: the API answered with a redirect or too large a body. */
  | "upstream_error";

export const NO_STORE = { "cache-control": "no-store" } as const;

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...Object.fromEntries(new Headers(headers)) } });
}

/** A stable machine-readable `error` code for the UI, and a human sentence that gives nothing away. */
export function jsonError(status: number, error: ErrorCode, message: string, headers: HeadersInit = {}): Response {
  return json({ error, message }, status, headers);
}

export const unauthenticated = (): Response => jsonError(401, "unauthenticated", "Sign in to continue.");

/** `reason` is the refusal's own code (`invalid_grant`, say). */
export const sessionExpired = (reason: string): Response => json({ error: "session_expired" satisfies ErrorCode, reason }, 401);

/**
 * How soon to try again while what the instances share (Redis) cannot be reached: asking it is cheap, and it fails
 * fast, so soon. Also how long a refresh that could not be coordinated stands before it is tried again.
 */
export const SERVICE_RETRY_AFTER_SECONDS = 2;

/** 503 with `Retry-After`: the session is kept, and the same request will work once the service is back. */
export const serviceUnavailable = (): Response =>
  jsonError(503, "service_unavailable", "The service is briefly unavailable. Try again in a moment.", { "retry-after": String(SERVICE_RETRY_AFTER_SECONDS) });
