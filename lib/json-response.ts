/**
 * JSON responses of the BFF's own routes: never cached, since they carry session data or errors about it.
 */

export const NO_STORE = { "cache-control": "no-store" } as const;

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...Object.fromEntries(new Headers(headers)) } });
}

/** A stable machine-readable `error` code for the UI, and a human sentence that gives nothing away. */
export function jsonError(status: number, error: string, message: string): Response {
  return json({ error, message }, status);
}

export const unauthenticated = (): Response => jsonError(401, "unauthenticated", "Sign in to continue.");
