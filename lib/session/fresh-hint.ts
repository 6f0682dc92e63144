/**
 * The freshness hint: a cookie, `__Host-tessera-fresh=1`, that the browser keeps exactly as long as the session's
 * access token needs no refresh (its `Max-Age` ends at `refreshAt`, or at the session's end if sooner).
 *
 * The middleware's matcher runs it for a data request only when the hint is missing, so a data request with a
 * current token goes straight to its route handler, which reads the session itself (see `server/data-route.ts`); once
 * the hint lapses, the next request passes through the middleware, which refreshes and sets a new hint. Pages
 * always pass through the middleware (for their CSP nonce), which leaves reading the session to the page while
 * the hint is there. The hint holds nothing secret and proves nothing: a hint without a usable session gets what
 * the middleware would have given (sign-in, or 401), and one that outlived its token is dropped (see
 * `server/data-route.ts`). Edge-safe and pure: the clock is a parameter.
 */
import type { Session } from "./session";
import { COOKIE_NAMES, cookieDeletion, setCookie } from "./cookies";

/**
 * Whole seconds the hint may live for `session` from `nowSeconds`: never past the moment a refresh is due.
 * `nowSeconds` is the exact time, fraction included: rounded down, it would let the hint outlive that moment.
 */
export function freshHintMaxAge(session: Pick<Session, "refreshAt" | "expiresAt">, nowSeconds: number): number {
  return Math.max(0, Math.floor(Math.min(session.refreshAt, session.expiresAt) - nowSeconds));
}

/** The `Set-Cookie` value that gives the browser the hint for `session`, or takes it away when there is none to give. */
export function freshHintCookie(session: Pick<Session, "refreshAt" | "expiresAt">, nowSeconds: number): string {
  const maxAge = freshHintMaxAge(session, nowSeconds);
  return maxAge > 0 ? setCookie(COOKIE_NAMES.fresh, "1", { maxAge }) : CLEAR_FRESH_HINT;
}

export const CLEAR_FRESH_HINT = cookieDeletion(COOKIE_NAMES.fresh);
