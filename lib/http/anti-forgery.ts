/**
 * Anti-forgery rule for the BFF's `/api/*` routes.
 *
 * The custom header `X-CSRF: 1` cannot be sent cross-site without a CORS preflight, which this app
 * never grants, so its presence proves the request came from our own script. Unsafe methods must also
 * carry a same-origin `Origin` (or `Sec-Fetch-Site: same-origin`), a second, independent proof.
 * Pure and edge-safe.
 */
import { jsonError, type ErrorCode } from "./json";
import { countAntiForgeryRefusal } from "@/lib/telemetry/signals";

export const CSRF_HEADER = "x-csrf";
export const CSRF_HEADER_VALUE = "1";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export type CsrfVerdict = { ok: true } | { ok: false; reason: Extract<ErrorCode, "missing_csrf_header" | "cross_origin"> };

export function checkCsrf(method: string, headers: Headers, appOrigin: string): CsrfVerdict {
  if (headers.get(CSRF_HEADER) !== CSRF_HEADER_VALUE) return { ok: false, reason: "missing_csrf_header" };
  if (SAFE_METHODS.has(method.toUpperCase())) return { ok: true };
  return isSameOrigin(headers, appOrigin) ? { ok: true } : { ok: false, reason: "cross_origin" };
}

/** A form POST (sign-out) cannot carry a custom header, so it relies on the origin proof alone. */
export function isSameOrigin(headers: Headers, appOrigin: string): boolean {
  const origin = headers.get("origin");
  if (origin !== null) return origin === appOrigin;
  return headers.get("sec-fetch-site") === "same-origin";
}

/** The rule as every data route applies it: 403 JSON, or `undefined` when the proof is there. */
export function refuseForgery(request: Request, appOrigin: string): Response | undefined {
  const verdict = checkCsrf(request.method, request.headers, appOrigin);
  if (verdict.ok) return undefined;
  countAntiForgeryRefusal(verdict.reason);
  return jsonError(403, verdict.reason, "This request is missing its anti-forgery proof.");
}

/**
 * Whether another site started this request (a link, a form, a script opening a window), as the browser says in
 * `Sec-Fetch-Site`. A browser that does not send it is taken at its word: this is a precaution, not a proof.
 */
export function startedByAnotherSite(headers: Headers): boolean {
  const site = headers.get("sec-fetch-site");
  return site === "cross-site" || site === "same-site";
}
