/**
 * The revocation list's two doors, so that sign-out and back-channel logout take effect at once:
 *
 * - `POST /revocations`: a token ends itself and its session, whatever its scopes (the web app's sign-out);
 * - `POST /revocations/logout-token`: the web app relays the logout tokens the IdP sends it, so that the session's
 *   access tokens die with it. No bearer token: the logout token is itself signed by the issuer.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { invalidLogoutToken, mediaTypeOf, noStore, privateEmpty, refuseToken, unavailable } from "../http/answers";
import type { ApiEnv } from "../http/authenticate";
import type { Logger } from "../logger";
import type { Revocation, RevocationStore } from "../revocation/store";
import { reasonOf, type RefusalReason } from "../telemetry/reasons";
import { countLogoutTokenAccepted, countLogoutTokenRefused } from "../telemetry/signals";
import { annotateRefusal } from "../telemetry/tracing";
import type { LogoutToken } from "../tokens/logout-token";

/** Room for one logout token of the largest accepted size, form-encoded. */
export const MAX_LOGOUT_BODY_BYTES = 12 * 1024;

export interface RevocationRoutesOptions {
  authenticated: MiddlewareHandler<ApiEnv>;
  /** Verifies a back-channel logout token; rejects with `TokenError`. */
  logoutTokenVerifier: (token: string) => Promise<LogoutToken>;
  revocations: RevocationStore;
  log: Logger;
  /** Seconds: the longest an access token can live, so a revoked session outlasts all of its tokens. */
  maxTokenTtl: number;
  /** Seconds of leeway the verifier allows on `exp`; revocations are kept that much longer. */
  clockTolerance: number;
  /** Epoch milliseconds. */
  now: () => number;
}

/** A logout token that did not end anything, for the metrics and the request's span. */
function logoutRefused(reason: RefusalReason): void {
  countLogoutTokenRefused(reason);
  annotateRefusal(reason);
}

export function revocationRoutes(app: Hono<ApiEnv>, options: RevocationRoutesOptions): void {
  const { authenticated, logoutTokenVerifier, revocations, log, maxTokenTtl, clockTolerance, now } = options;
  const nowSeconds = () => Math.floor(now() / 1000);
  // A session or subject is remembered until every token its cut-off covers has expired: one issued at the cut-off
  // lives `maxTokenTtl`, and the cut-off may be ahead of this server's clock.
  const coverAllTokensUntil = (issuedUpTo: number, exp = 0) =>
    Math.max(exp, Math.max(issuedUpTo, nowSeconds()) + maxTokenTtl) + clockTolerance;

  app.post("/revocations", authenticated, async (c) => {
    const { jti, sid, exp, iat, sub } = c.get("token");
    // The session's cut-off is now, or this token's iat when the IdP's clock runs ahead: every token of the session
    // issued up to this one goes, and those the IdP issues later under the same sid (its SSO session lived on) do not.
    const issuedUpTo = Math.max(nowSeconds(), iat);
    try {
      await revocations.revoke({ jti, until: exp + clockTolerance });
      if (sid !== undefined) await revocations.revoke({ sid, issuedUpTo, until: coverAllTokensUntil(issuedUpTo, exp) });
    } catch (error) {
      log.error("revocation_failed", { error });
      return unavailable(c);
    }
    log.info("token_revoked", { sub, jti, sid });
    return privateEmpty(204);
  });

  app.post(
    "/revocations/logout-token",
    noStore,
    bodyLimit({
      maxSize: MAX_LOGOUT_BODY_BYTES,
      onError: (c) => {
        logoutRefused("invalid_request");
        return invalidLogoutToken(c, "The request body is too large");
      },
    }),
    async (c) => {
      if (mediaTypeOf(c.req.header("Content-Type")) !== "application/x-www-form-urlencoded") {
        logoutRefused("invalid_request");
        return invalidLogoutToken(c, "Content-Type must be application/x-www-form-urlencoded");
      }
      const values = new URLSearchParams(await c.req.text()).getAll("logout_token");
      const [token] = values;
      if (token === undefined || values.length !== 1) {
        logoutRefused("invalid_request");
        return invalidLogoutToken(c, "Exactly one logout_token is required");
      }

      let logout: LogoutToken;
      try {
        logout = await logoutTokenVerifier(token);
      } catch (error) {
        logoutRefused(reasonOf(error));
        return refuseToken(c, error, log, "logout_token", () => invalidLogoutToken(c, "The logout token is invalid"));
      }

      const { jti, sid, sub, issuedAt, acceptableUntil } = logout;
      // Dated as the web app dates it. Without a sid, the IdP means every session of the subject it had started when
      // it issued the token: the line is the token's iat, on the IdP's clock like the access tokens' own, so neither a
      // late delivery nor this server's clock moves it, and a sign-in after the logout stays. A named session has
      // ended at the IdP: its tokens go up to that iat (this clock may be behind) or up to now, whichever is later
      // (the delivery may be late). Either way a cut-off, not the whole sid or sub: a later sign-in may bring them back.
      const issuedUpTo = sid !== undefined ? Math.max(issuedAt, nowSeconds()) : issuedAt;
      const cutOff = { issuedUpTo, until: coverAllTokensUntil(issuedUpTo) };
      const revocation: Revocation = sid !== undefined ? { sid, ...cutOff } : { sub, ...cutOff };
      let firstUse: boolean;
      try {
        firstUse = await revocations.revokeOnce(revocation, { jti, until: acceptableUntil });
      } catch (error) {
        log.error("revocation_failed", { error });
        logoutRefused("revocation_unavailable");
        return unavailable(c);
      }
      if (!firstUse) {
        log.info("logout_token_rejected", { code: "replayed", jti });
        logoutRefused("replayed");
        return invalidLogoutToken(c, "The logout token is invalid");
      }
      log.info("logout_token_accepted", { jti, sid, sub });
      countLogoutTokenAccepted();
      return c.body(null, 200);
    },
  );
}
